#!/usr/bin/env bash
# What TLS costs, side by side in one run, on the sample (release, `--features tls`): one
# process serving plain HTTP and one serving HTTPS (a P-256 certificate made here by openssl,
# removed at the end), measured by ApacheBench (`apt-get install apache2-utils`) in turn:
#   new connections/s   `ab -c C -n N`, a new connection per scrape: plain HTTP, and a full
#                       handshake per scrape over TLS 1.3 and TLS 1.2 (ab resumes no session);
#   keep-alive scrape   `ab -k -c 1 -n N`: one connection, scrapes one after another; the mean
#                       time per scrape (ab's percentiles are whole milliseconds);
#   server CPU          the server's time on a CPU per request (/proc/PID/schedstat), which
#                       the machine's load does not inflate as it does the rates.
# Each round runs every case once, the first case rotating from round to round so that all
# share the machine's noise; the table gives the medians over ROUNDS and the ratios to plain.
# ab and the exporter share the machine: a handshake costs the client about what it costs the
# server, so the rates are the pair's, not the server's alone.
#
#   bash scripts/tls_bench.sh                     # ROUNDS=3 CONNS=1000 SCRAPES=10000 C=1
#   ROUNDS=1 CONNS=200 SCRAPES=2000 bash scripts/tls_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-1000}
SCRAPES=${SCRAPES:-10000}
C=${C:-1}
for tool in ab openssl cargo; do
    command -v "$tool" >/dev/null || { echo "tls_bench: needs $tool (apt-get install apache2-utils openssl)" >&2; exit 1; }
done

cargo build --release --example sample --features tls --quiet
binary="$(realpath "${CARGO_TARGET_DIR:-target}/release/examples/sample")"
tmp="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$tmp/server.key" -out "$tmp/server.pem" 2>/dev/null

# Starts the sample with `$@` (`-L info`: access lines are at debug); sets $url to its
# /metrics URL from the readiness line.
serve() {
    local log="$tmp/log.$1"
    url=""
    shift
    "$binary" -H 127.0.0.1 -p 0 -L info "$@" >/dev/null 2>"$log" &
    pids+=($!)
    for _ in $(seq 1 100); do
        url="$(grep -o 'https\?://127\.0\.0\.1:[0-9]*/metrics' "$log" | head -1 || true)"
        [ -n "$url" ] && break
        sleep 0.1 # polling the log for the readiness line, bounded to 10 s
    done
    [ -n "$url" ] || { cat "$log" >&2; echo "tls_bench: the sample did not start" >&2; exit 1; }
}
serve plain
plain=$url
serve tls --ssl-private-key "$tmp/server.key" --ssl-public-key "$tmp/server.pem"
tls=$url
declare -A server=([plain]=${pids[0]} [tls13]=${pids[1]} [tls12]=${pids[1]})
# A process's time on a CPU so far, in ns (the scheduler's own count: waits do not count).
cpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }

# case -> ab arguments
declare -A args=(
    [conn-plain]="-c $C -n $CONNS $plain"
    [conn-tls13]="-c $C -n $CONNS -f TLS1.3 $tls"
    [conn-tls12]="-c $C -n $CONNS -f TLS1.2 $tls"
    [keepalive-plain]="-k -c 1 -n $SCRAPES $plain"
    [keepalive-tls13]="-k -c 1 -n $SCRAPES -f TLS1.3 $tls"
    [keepalive-tls12]="-k -c 1 -n $SCRAPES -f TLS1.2 $tls"
)
cases=(conn-plain conn-tls13 conn-tls12 keepalive-plain keepalive-tls13 keepalive-tls12)
results="$tmp/results" # case round req/s ms/scrape server-cpu-us/request
: >"$results"
for round in $(seq 1 "$ROUNDS"); do
    for k in "${!cases[@]}"; do
        name=${cases[$(((round - 1 + k) % ${#cases[@]}))]}
        pid=${server[${name#*-}]}
        before=$(cpu_ns "$pid")
        # shellcheck disable=SC2086
        ab -q ${args[$name]} >"$tmp/ab.txt" 2>&1 || { cat "$tmp/ab.txt" >&2; exit 1; }
        after=$(cpu_ns "$pid")
        # A body whose length differs from the first is no failure: the sample's values change.
        failed=$(awk '/\(Connect: / { gsub(/[(),]/, ""); print $2 + $4 + $8 } /^Non-2xx/ { print $3 }' \
            "$tmp/ab.txt" | awk '{ n += $1 } END { print n + 0 }')
        [ "$failed" = 0 ] || { cat "$tmp/ab.txt" >&2; echo "tls_bench: $name: $failed failed" >&2; exit 1; }
        rps=$(awk '/^Requests per second:/ {print $4}' "$tmp/ab.txt")
        ms=$(awk '/^Time per request:.*\(mean\)$/ {print $4}' "$tmp/ab.txt")
        n=$(awk '/^Complete requests:/ {print $3}' "$tmp/ab.txt")
        cpu=$(awk -v a="$before" -v b="$after" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n / 1000 }')
        echo "$name $round $rps $ms $cpu" >>"$results"
        printf 'round %s/%s %-16s %10.1f req/s  %8.3f ms per request (mean, per client)  server CPU %7.1f us per request\n' \
            "$round" "$ROUNDS" "$name" "$rps" "$ms" "$cpu" >&2
    done
done

median() { # case column
    awk -v c="$1" -v col="$2" '$1 == c { print $col }' "$results" | sort -g \
        | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
us() { awk -v v="$1" 'BEGIN { printf "%.0f µs", v * 1000 }'; }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
echo
echo "TLS against plain HTTP on the sample: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$(rustc --version | cut -d' ' -f1-2), ApacheBench $(ab -V | head -1 | grep -o "[0-9][0-9.]*" | head -1)," \
    "$(openssl version | cut -d' ' -f1-2), P-256 certificate, at $commit."
echo "Medians of $ROUNDS rounds; new connections ($CONNS) with $C client(s) at once, keep-alive scrapes ($SCRAPES) with one."
echo
echo "| | plain HTTP | TLS 1.3 | TLS 1.2 | TLS 1.3 ÷ plain | TLS 1.2 ÷ plain |"
echo "|---|---|---|---|---|---|"
p=$(median conn-plain 3)
t3=$(median conn-tls13 3)
t2=$(median conn-tls12 3)
echo "| new connections/s (a scrape each) | ${p%.*} | ${t3%.*} | ${t2%.*} | $(ratio "$t3" "$p") | $(ratio "$t2" "$p") |"
p=$(median keepalive-plain 4)
t3=$(median keepalive-tls13 4)
t2=$(median keepalive-tls12 4)
echo "| keep-alive scrape, mean time | $(us "$p") | $(us "$t3") | $(us "$t2") | $(ratio "$t3" "$p") | $(ratio "$t2" "$p") |"
for kind in conn keepalive; do
    p=$(median "$kind-plain" 5)
    t3=$(median "$kind-tls13" 5)
    t2=$(median "$kind-tls12" 5)
    what="server CPU per new connection"
    [ "$kind" = conn ] || what="server CPU per keep-alive scrape"
    echo "| $what | ${p} µs | ${t3} µs | ${t2} µs | $(ratio "$t3" "$p") | $(ratio "$t2" "$p") |"
done
