#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) on the checked-in seed corpora.
# Needs a nightly toolchain and cargo-fuzz: `cargo install cargo-fuzz`.
# Longer runs: `fuzz/run.sh 3600`, or one target: `cargo +nightly fuzz run session`.
# `tls_records` needs the crate's `tls` feature (rustls and ring, whose build needs a C
# compiler): it runs only where it builds with it, else a note says it was skipped.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
for target in $(cargo +nightly fuzz list); do
    features=()
    if [ "$target" = tls_records ]; then
        features=(--features tls)
        if ! cargo +nightly fuzz build "${features[@]}" "$target" >/dev/null 2>&1; then
            echo "=== fuzz $target skipped: it does not build with the tls feature here"
            continue
        fi
    fi
    mkdir -p "corpus/$target"
    echo "=== fuzz $target for ${seconds}s"
    # A scratch copy of the corpus, so new inputs do not dirty the checkout.
    work="$(mktemp -d)"
    cp -r "corpus/$target/." "$work/"
    # The run's status is kept apart from the filter's: under pipefail, `run | grep || true`
    # would let a crash pass.
    status=0
    cargo +nightly fuzz run "${features[@]}" "$target" "$work" -- -max_total_time="$seconds" \
        -rss_limit_mb=1024 >"$work.log" 2>&1 || status=$?
    grep -E "^(Done|#[0-9]+ +DONE)|ERROR|panicked|SUMMARY" "$work.log" || true
    if [ "$status" -ne 0 ]; then
        grep -E -A3 "panicked at|^(left|right|  left|  right):" "$work.log" | cut -c1-300 | head -20
        echo "=== fuzz $target FAILED (exit $status); the input is under fuzz/artifacts/$target/"
        exit 1
    fi
    rm -rf "$work" "$work.log"
done
