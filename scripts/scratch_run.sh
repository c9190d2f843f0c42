#!/usr/bin/env bash
# Builds the sample as a static musl binary and runs it the way a `FROM scratch` image would:
# alone in an empty directory under chroot (no /etc/hosts, no libc, no shell), with
# `-H localhost`. Scrapes it, checks it with `--healthcheck` (the image's HEALTHCHECK), stops it
# with SIGTERM, and checks it exited 0 and that the check then fails. Then checks that
# `--process-stats` there, with no /proc, is refused at start (exit 1) rather than exporting zeros.
# Needs root (chroot) and the x86_64-unknown-linux-musl target.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
cargo build --release --example sample --target "$target" --quiet
binary="target/$target/release/examples/sample"
file "$binary" 2>/dev/null | grep -q "static" || ldd "$binary" 2>&1 | grep -q "not a dynamic" \
    || { echo "not a static binary: $binary"; exit 1; }

root="$(mktemp -d)"
log="$(mktemp)"
pid=""
launcher=""
trap 'kill -KILL $pid $launcher 2>/dev/null || true; rm -rf "$root" "$log"' EXIT
cp "$binary" "$root/exporter"
echo "scratch root holds: $(ls -A "$root")"

# As PID 1 of a new PID namespace, like a container's entrypoint, where a signal without a
# handler is ignored: SIGTERM must still stop it.
unshare --pid --fork --kill-child chroot "$root" /exporter -H localhost -p 0 -L info 2>"$log" &
launcher=$!
pid=""
for _ in $(seq 1 50); do
    pid="$(pgrep -P "$launcher" || true)"
    [ -n "$pid" ] && break
    sleep 0.1 # waiting for unshare to fork, bounded to 5 s
done
[ -n "$pid" ] || { echo "the exporter did not start"; exit 1; }
echo "exporter is pid $pid here, $(awk '/^NSpid/ {print "pid " $3}' "/proc/$pid/status") in its namespace"
url=""
for _ in $(seq 1 100); do
    url="$(grep -o 'http://127\.0\.0\.1:[0-9]*/metrics' "$log" | head -1 || true)"
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "the exporter died"; exit 1; }
    sleep 0.1 # polling the log for the readiness line, bounded to 10 s
done
[ -n "$url" ] || { cat "$log"; echo "no readiness line"; exit 1; }
echo "scraping $url"
body="$(curl -sf --max-time 10 "$url")"
echo "$body" | grep -q '^# TYPE sample_value gauge' || { echo "$body"; echo "unexpected body"; exit 1; }
# The container's HEALTHCHECK: the binary checks itself, with no curl in the image.
port="${url##*:}"
port="${port%%/*}"
chroot "$root" /exporter --healthcheck -H localhost -p "$port" \
    || { cat "$log"; echo "--healthcheck failed against a running exporter"; exit 1; }
echo "--healthcheck in the scratch root: ok (exit 0)"
size=$(stat -c %s "$binary")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "static sample: $size bytes, RSS after a scrape: ${rss} kB"
kill -TERM "$pid"
status=0
wait "$launcher" || status=$?
cat "$log"
[ "$status" -eq 0 ] || { echo "exit status $status after SIGTERM"; exit 1; }
echo "scratch run: ok (exit 0 after SIGTERM)"
status=0
chroot "$root" /exporter --healthcheck -H localhost -p "$port" 2>"$log" || status=$?
cat "$log"
[ "$status" -eq 1 ] || { echo "--healthcheck with no exporter: exit $status, expected 1"; exit 1; }
echo "--healthcheck with no exporter: exit 1"

# No /proc in the scratch root: process metrics cannot be read, and the exporter says so.
status=0
chroot "$root" /exporter -H localhost -p 0 --process-stats 2>"$log" || status=$?
cat "$log"
[ "$status" -eq 1 ] && grep -q 'process metrics need a readable /proc' "$log" \
    || { echo "--process-stats without /proc: exit $status, expected 1 and the reason"; exit 1; }
echo "scratch run without /proc: --process-stats refused (exit 1)"
