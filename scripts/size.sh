#!/usr/bin/env bash
# Sizes of the static (musl) and dynamic (glibc) release builds of the sample exporter and of
# the size floor, a bare std-only TCP responder (examples/size_floor.rs), both with the crate's
# release profile (opt-level "s", LTO, one codegen unit, panic=abort, stripped).
#
#   bash scripts/size.sh                 # default features
#   FEATURES=gzip bash scripts/size.sh   # with features
#
# Prints each size in bytes and the ratio sample / floor (for information: the floor is not a
# target). With default features it then checks the budget, a static musl sample of at most
# 640 000 bytes, and exits with status 1 when the sample is over it. For the smallest build on
# nightly Rust, see scripts/size_nightly.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

musl=x86_64-unknown-linux-musl
features=()
if [ -n "${FEATURES:-}" ]; then features=(--features "$FEATURES"); fi
target_dir=$(cargo metadata --format-version 1 --no-deps \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')

build() { # target-or-empty
    local args=(build --release --quiet "${features[@]}" --example sample --example size_floor)
    if [ -n "$1" ]; then args+=(--target "$1"); fi
    cargo "${args[@]}"
}

build "$musl"
build ""

size() { stat -c %s "$1"; }
report() { # label dir
    local sample floor
    sample=$(size "$2/sample")
    floor=$(size "$2/size_floor")
    printf '%-6s sample %9d B   size_floor %9d B   ratio %s\n' "$1" "$sample" "$floor" \
        "$(awk -v a="$sample" -v b="$floor" 'BEGIN { printf "%.3f", a / b }')"
}

report musl "$target_dir/$musl/release/examples"
report glibc "$target_dir/release/examples"
file "$target_dir/$musl/release/examples/sample" | sed 's/^[^:]*: /musl sample: /'

if [ -z "${FEATURES:-}" ]; then
    budget=640000
    musl_sample=$(size "$target_dir/$musl/release/examples/sample")
    if [ "$musl_sample" -gt "$budget" ]; then
        echo "budget: musl sample $musl_sample B is over $budget B" >&2
        exit 1
    fi
    echo "budget: musl sample $musl_sample B <= $budget B"
fi
