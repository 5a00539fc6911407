#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), one after another,
# from corpus/<target> plus the seeds (fuzz/seeds.sh: the repo's playbooks,
# examples, malformed cases and report templates, and fuzz/seeds/<target>).
# The corpus is not in git: a missing corpus/<target> is created from the
# seeds, and new inputs that reach new code go to it; crashes go to
# artifacts/<target>. fuzz/minimise.sh shrinks a corpus that has grown.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs `cargo install cargo-fuzz`. On a stable toolchain RUSTC_BOOTSTRAP=1
# lets cargo-fuzz pass its nightly-only sanitizer flags; set SANITIZER=none if
# AddressSanitizer is not available.
set -euo pipefail

seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(playbook_load report_template expression)

cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
sanitizer=${SANITIZER:-address}

source ./seeds.sh

# corpus/TARGET from the seed files, each named by its SHA-1 as libFuzzer names inputs.
new_corpus() {
    mkdir -p "corpus/$1"
    # shellcheck disable=SC2046 # the seed folders are words on purpose
    find $(seeds "$1") -type f -print0 | while IFS= read -r -d '' file; do
        cp -- "$file" "corpus/$1/$(sha1sum < "$file" | cut -d' ' -f1)"
    done
    echo "== $1: new corpus from $(ls "corpus/$1" | wc -l) seed files"
}

cargo fuzz build --sanitizer "$sanitizer"
for target in "${targets[@]}"; do
    [ -d "corpus/$target" ] || new_corpus "$target"
    echo "== $target for ${seconds}s"
    # shellcheck disable=SC2046 # the seed folders are words on purpose
    cargo fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" $(seeds "$target") -- -dict="$target.dict" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
