#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), one after another,
# from the committed corpus plus the repo's playbooks, examples, malformed
# cases and report templates. New inputs that reach new code go to
# corpus/<target>; crashes to artifacts/<target>. Shrink the corpus with
# fuzz/minimise.sh before committing it.
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

cargo fuzz build --sanitizer "$sanitizer"
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "== $target for ${seconds}s"
    # shellcheck disable=SC2046 # the seed folders are words on purpose
    cargo fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" $(seeds "$target") -- -dict="$target.dict" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
