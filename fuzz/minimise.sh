#!/usr/bin/env bash
# Shrinks corpus/<target> to the inputs that reach code the seed folders do
# not, leaving out inputs over 2 KB (the seeds cover the long ones), so a
# corpus kept between runs stays small (it is not in git: fuzz/run.sh makes
# it from the seeds). Run after fuzz/run.sh has built the targets.
#
#   fuzz/minimise.sh TARGET...
set -euo pipefail

cd "$(dirname "$0")"
source ./seeds.sh
bin="${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release"
for target in "$@"; do
    work=$(mktemp -d)
    mkdir "$work/out" "$work/small"
    for dir in $(seeds "$target"); do find "$dir" -type f -exec cp {} "$work/out/" \; ; done
    seeded=$(ls "$work/out")
    find "corpus/$target" -type f -size -2049c -exec cp {} "$work/small/" \;
    "$bin/$target" -merge=1 -timeout=10 "$work/out" "$work/small" 2>"$work/log" || { cat "$work/log"; exit 1; }
    (cd "$work/out" && rm -f -- $seeded)
    rm -rf "corpus/$target" && mv "$work/out" "corpus/$target" && rm -rf "$work"
    echo "$target: $(ls "corpus/$target" | wc -l) inputs, $(cat "corpus/$target"/* | wc -c) bytes"
done
