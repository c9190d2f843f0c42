#!/usr/bin/env bash
# The smallest static (musl) build of the sample exporter found on nightly Rust, and of the size
# floor (examples/size_floor.rs) built the same way, for a ratio. Cargo.toml is not edited: the
# profile `size-nightly` is defined on the command line. It inherits the crate's release profile
# (LTO, one codegen unit, stripped) and sets opt-level "z" and panic = "immediate-abort"; std is
# rebuilt with it (-Z build-std=std,panic_abort) with std's `optimize_for_size` feature, and
# -Cforce-unwind-tables=no leaves out .eh_frame (nothing unwinds once a panic aborts at once).
#
#   bash scripts/size_nightly.sh                         # default features
#   FEATURES=gzip bash scripts/size_nightly.sh           # with features
#   TOOLCHAIN=nightly-2026-05-19 bash scripts/size_nightly.sh
#   RUSTFLAGS=-Crelocation-model=static bash scripts/size_nightly.sh   # not PIE: no ASLR
#
# Needs, once:
#   rustup component add rust-src --toolchain nightly
#   rustup target add x86_64-unknown-linux-musl --toolchain nightly   # crt objects, libunwind
#
# What the build gives up: a panic prints nothing (no message, no location) and kills the
# process at once with SIGILL (a shell shows status 132), so a panicking collector or handler
# ends the exporter silently; std's size-optimised algorithms (sorting, integer Display, float
# parsing) are slower; without unwind tables, a debugger or profiler cannot walk the stack through
# frames that keep no frame pointer. Ordinary errors (a port in use, a bad option) are reported as
# in any other build.
#
# panic_immediate_abort is spelled for nightlies where it is a panic strategy (cargo's
# -Z panic-immediate-abort, profile `panic = "immediate-abort"`); on those, the older
# -Z build-std-features=panic_immediate_abort stops the build with a compile error in core.
#
# Prints each size in bytes and the ratio sample / floor. The binaries are in
# <target dir>/x86_64-unknown-linux-musl/size-nightly/examples/.
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain=${TOOLCHAIN:-nightly}
musl=x86_64-unknown-linux-musl
profile=size-nightly
features=()
if [ -n "${FEATURES:-}" ]; then features=(--features "$FEATURES"); fi

sysroot=$(rustc "+$toolchain" --print sysroot)
if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
    echo "size_nightly.sh: run: rustup component add rust-src --toolchain $toolchain" >&2
    exit 1
fi
if [ ! -e "$sysroot/lib/rustlib/$musl/lib/self-contained/rcrt1.o" ]; then
    echo "size_nightly.sh: run: rustup target add $musl --toolchain $toolchain" >&2
    exit 1
fi
if ! cargo "+$toolchain" -Z help 2>/dev/null | grep -q -- 'panic-immediate-abort'; then
    echo "size_nightly.sh: cargo +$toolchain has no -Z panic-immediate-abort;" \
        "an older nightly spells it -Z build-std-features=panic_immediate_abort" >&2
    exit 1
fi

# Added to, not replaced by, the caller's RUSTFLAGS.
export RUSTFLAGS="-Cforce-unwind-tables=no${RUSTFLAGS:+ $RUSTFLAGS}"

target_dir=$(cargo "+$toolchain" metadata --format-version 1 --no-deps \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')

cargo "+$toolchain" build --quiet \
    -Z build-std=std,panic_abort \
    -Z build-std-features=optimize_for_size \
    -Z panic-immediate-abort \
    --config "profile.$profile.inherits=\"release\"" \
    --config "profile.$profile.opt-level=\"z\"" \
    --config "profile.$profile.lto=true" \
    --config "profile.$profile.codegen-units=1" \
    --config "profile.$profile.strip=true" \
    --config "profile.$profile.panic=\"immediate-abort\"" \
    --profile "$profile" --target "$musl" "${features[@]}" \
    --example sample --example size_floor

dir="$target_dir/$musl/$profile/examples"
sample=$(stat -c %s "$dir/sample")
floor=$(stat -c %s "$dir/size_floor")
rustc "+$toolchain" -V
printf 'musl   sample %9d B   size_floor %9d B   ratio %s\n' "$sample" "$floor" \
    "$(awk -v a="$sample" -v b="$floor" 'BEGIN { printf "%.3f", a / b }')"
file "$dir/sample" | sed 's/^[^:]*: /musl sample: /'
