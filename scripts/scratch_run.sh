#!/usr/bin/env bash
# Builds the sample as a static musl binary and runs it the way a `FROM scratch` image would:
# alone in an empty directory under chroot (no /etc/hosts, no libc, no shell), with
# `-H localhost`. Scrapes it, checks it with `--healthcheck` (the image's HEALTHCHECK), stops it
# with SIGTERM, and checks it exited 0 and that the check then fails. Then checks that
# `--process-stats` there, with no /proc, is refused at start (exit 1) rather than exporting zeros.
# Then the same with the secure features below: serving HTTPS with a key and certificate made
# here by openssl (copied into the root, as a volume would mount them), scraped with
# `curl --cacert`, and behind basic auth with an htpasswd file made by `htpasswd -B`: a scrape
# without credentials gets 401. Prints both binaries' sizes.
# Needs root (chroot), the x86_64-unknown-linux-musl target, openssl, and a C compiler for musl
# (Debian's musl-tools: ring, under rustls, has C and assembly parts), and htpasswd (Debian's
# apache2-utils) for the basic-auth build.
set -euo pipefail

# The features of the secured build, space-separated.
secure_features="tls basic-auth"

cd "$(dirname "$0")/.."
for tool in openssl htpasswd curl chroot; do
    command -v "$tool" >/dev/null \
        || { echo "scratch_run: $tool not found (see the needs above: Debian's openssl, apache2-utils, curl)"; exit 1; }
done
target=x86_64-unknown-linux-musl
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
if [ -z "${CC_x86_64_unknown_linux_musl:-}" ] && command -v musl-gcc >/dev/null; then
    export CC_x86_64_unknown_linux_musl=musl-gcc
fi

work="$(mktemp -d)"
pid=""
launcher=""
trap 'kill -KILL $pid $launcher 2>/dev/null || true; rm -rf "$work"' EXIT
log="$work/log"

# Builds the sample with `$@` as cargo's feature options; copies it to $work/$name.
build() {
    local name="$1"
    shift
    cargo build --release --example sample --target "$target" --quiet "$@"
    local binary="${CARGO_TARGET_DIR:-target}/$target/release/examples/sample"
    file "$binary" 2>/dev/null | grep -q "static" || ldd "$binary" 2>&1 | grep -q "not a dynamic" \
        || { echo "not a static binary: $binary ($*)"; exit 1; }
    cp "$binary" "$work/$name"
}

# Starts `$root/exporter $@` as PID 1 of a new PID namespace, like a container's entrypoint,
# where a signal without a handler is ignored (SIGTERM must still stop it); sets $pid,
# $launcher and $url (from the readiness line, for `scheme`).
start() {
    local root="$1" scheme="$2"
    shift 2
    unshare --pid --fork --kill-child chroot "$root" /exporter "$@" 2>"$log" &
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
        url="$(grep -o "$scheme://127\.0\.0\.1:[0-9]*/metrics" "$log" | head -1 || true)"
        [ -n "$url" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "the exporter died"; exit 1; }
        sleep 0.1 # polling the log for the readiness line, bounded to 10 s
    done
    [ -n "$url" ] || { cat "$log"; echo "no readiness line"; exit 1; }
}

# Stops the exporter with SIGTERM and checks it exited 0.
stop() {
    kill -TERM "$pid"
    local status=0
    wait "$launcher" || status=$?
    cat "$log"
    [ "$status" -eq 0 ] || { echo "exit status $status after SIGTERM"; exit 1; }
}

# Scrapes $url with `curl $@` and checks the body.
scrape() {
    echo "scraping $url"
    local body
    body="$(curl -sf --max-time 10 "$@" "$url")"
    echo "$body" | grep -q '^# TYPE sample_value gauge' || { echo "$body"; echo "unexpected body"; exit 1; }
}

port_of() {
    local port="${1##*:}"
    echo "${port%%/*}"
}

build default
build secure --features "$secure_features"

echo "--- the default build"
root="$work/root"
mkdir "$root"
cp "$work/default" "$root/exporter"
echo "scratch root holds: $(ls -A "$root")"
start "$root" http -H localhost -p 0 -L info
scrape
# The container's HEALTHCHECK: the binary checks itself, with no curl in the image.
port="$(port_of "$url")"
chroot "$root" /exporter --healthcheck -H localhost -p "$port" \
    || { cat "$log"; echo "--healthcheck failed against a running exporter"; exit 1; }
echo "--healthcheck in the scratch root: ok (exit 0)"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "static sample: $(stat -c %s "$work/default") bytes, RSS after a scrape: ${rss} kB"
stop
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

echo "--- the build with --features \"$secure_features\", serving HTTPS behind basic auth"
pki="$work/pki"
mkdir "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
    -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -addext basicConstraints=critical,CA:FALSE \
    -addext extendedKeyUsage=serverAuth -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$pki/server.key" -out "$pki/server.pem" 2>/dev/null
root="$work/secure-root"
mkdir -p "$root/tls"
cp "$work/secure" "$root/exporter"
cp "$pki/server.key" "$pki/server.pem" "$root/tls/"
htpasswd -nbB -C 4 prometheus scratch-secret >"$root/tls/users"
echo "scratch root holds: $(cd "$root" && find . -mindepth 1 | sort | tr '\n' ' ')"
tls=(--ssl-private-key /tls/server.key --ssl-public-key /tls/server.pem
    --basic-auth-users /tls/users)
start "$root" https -H localhost -p 0 -L info "${tls[@]}"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$pki/ca.pem" "$url")"
[ "$code" = 401 ] || { cat "$log"; echo "a scrape without credentials got $code, expected 401"; exit 1; }
echo "a scrape without credentials: 401"
scrape --cacert "$pki/ca.pem" -u prometheus:scratch-secret
port="$(port_of "$url")"
chroot "$root" /exporter --healthcheck -H localhost -p "$port" "${tls[@]}" \
    || { cat "$log"; echo "--healthcheck over TLS failed against a running exporter"; exit 1; }
echo "--healthcheck over TLS in the scratch root: ok (exit 0)"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "static sample with $secure_features: $(stat -c %s "$work/secure") bytes, RSS after a scrape: ${rss} kB"
stop
echo "scratch run over TLS: ok (exit 0 after SIGTERM)"

echo "static sizes: default $(stat -c %s "$work/default") bytes," \
    "with $secure_features $(stat -c %s "$work/secure") bytes"
