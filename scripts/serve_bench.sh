#!/usr/bin/env bash
# Serving benchmark, side by side in one run: GET /metrics from
#   ours   `load serve` (examples/load.rs), which updates every series before each scrape;
#   peer   benches/peers' `peer-prometheus-client` (prometheus-client + hyper 1 on a
#          current-thread tokio runtime), with the same data and the same per-scrape update
#          (DATA=tidy only: it has no realistic data);
#   nginx  serving our body from a file (the floor: the same bytes).
# DATA=realistic (the default) serves what a real exporter holds: label values of 20 to 40
# characters (pod names, API paths), series created in a random order after a million others
# were created between them and removed (a churned heap; CHURN=1000000), arbitrary f64 values
# set before each scrape. DATA=tidy serves the convenient data of earlier runs (host-{i},
# quarter values, label order), against the peer too.
# For each N in SIZES, the three servers hold N labelled series per family; each round runs wrk
# once against each server in turn (the first server rotating from round to round, so that all
# three share the machine's noise), for RUNS rounds. N <= 1000 uses 10 connections, larger N 1.
# Prints a markdown table of the medians over the rounds; the runs go to stderr as they finish.
#
#   bash scripts/serve_bench.sh                          # SIZES="10 100000" RUNS=3 DURATION=10
#   DATA=tidy bash scripts/serve_bench.sh                # the old data, with the peer
#   SIZES=10 RUNS=1 DURATION=2 bash scripts/serve_bench.sh
#   MUSL=1 bash scripts/serve_bench.sh                   # static x86_64-unknown-linux-musl builds
#   PORT=19101                                           # ours; peer PORT+1, nginx PORT+2
#   PIN=1 bash scripts/serve_bench.sh                    # servers on CPU 1, wrk on CPU 0 (taskset)
#
# Needs wrk, nginx (NGINX=path, default from PATH or /usr/sbin/nginx) and curl:
# `apt-get install wrk nginx-light curl`. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"10 100000"}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
MUSL=${MUSL:-0}
PIN=${PIN:-0}
DATA=${DATA:-realistic}
CHURN=${CHURN:-1000000}
case "$DATA" in tidy | realistic) ;; *) echo "serve_bench: DATA=$DATA: expected tidy or realistic" >&2; exit 2 ;; esac
# With PIN=1, servers and wrk run on separate cores, so the scheduler moving them does not show
# in the latency tail.
server_cpu=()
client_cpu=()
if [ "$PIN" = 1 ]; then
    server_cpu=(taskset -c 1)
    client_cpu=(taskset -c 0)
fi
PORT=${PORT:-19101}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
musl=x86_64-unknown-linux-musl

die() { echo "serve_bench: $*" >&2; exit 1; }
for tool in wrk curl cargo; do
    command -v "$tool" >/dev/null || die "needs $tool (apt-get install wrk nginx-light curl)"
done
[ -x "$NGINX" ] || die "needs nginx (apt-get install nginx-light, or NGINX=path)"

# ---------------------------------------------------------------------------------------------
# Build

target_dir() { # [cargo metadata args]
    cargo metadata --format-version 1 --no-deps "$@" \
        | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'
}
target=()
sub=release
if [ "$MUSL" = 1 ]; then
    rustup target list --installed | grep -qx "$musl" || rustup target add "$musl"
    target=(--target "$musl")
    sub=$musl/release
fi
echo "building ours (examples/load)$([ "$DATA" = tidy ] && echo " and the peer (benches/peers)"), release${target:+, $musl}" >&2
cargo build --release --quiet --example load "${target[@]}"
ours_bin=$(target_dir)/$sub/examples/load
[ -x "$ours_bin" ] || die "not built: $ours_bin"
peer_bin=
if [ "$DATA" = tidy ]; then
    cargo build --release --quiet --manifest-path benches/peers/Cargo.toml "${target[@]}"
    peer_bin=$(target_dir --manifest-path benches/peers/Cargo.toml)/$sub/peer-prometheus-client
    [ -x "$peer_bin" ] || die "not built: $peer_bin"
fi

# ---------------------------------------------------------------------------------------------
# Servers

tmp=$(mktemp -d)
declare -A pids=()
stop() { # name
    local pid=${pids[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "pids[$1]"
}
cleanup() {
    local name
    for name in "${!pids[@]}"; do stop "$name"; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

servers=(ours peer nginx)
[ "$DATA" = tidy ] || servers=(ours nginx)
declare -A port=([ours]=$PORT [peer]=$((PORT + 1)) [nginx]=$((PORT + 2)))
url() { echo "http://127.0.0.1:${port[$1]}/metrics"; }

start() { # name command...
    local name=$1 rc=0
    shift
    # Refuse a port that something already answers on: we would measure it instead.
    curl -s -o /dev/null --max-time 2 "$(url "$name")" || rc=$?
    [ "$rc" = 7 ] || die "port ${port[$name]} ($name) is in use"
    "${server_cpu[@]}" "$@" >"$tmp/$name.log" 2>&1 &
    pids[$name]=$!
    # Ready when it answers 200 (a startup with 100 000 series takes a moment).
    local tries=0
    until curl -sf -o /dev/null --max-time 10 "$(url "$name")"; do
        kill -0 "${pids[$name]}" 2>/dev/null || { cat "$tmp/$name.log" >&2; die "$name exited"; }
        tries=$((tries + 1))
        [ "$tries" -lt 4800 ] || die "$name not ready after 240 s"
        sleep 0.05
    done
}

nginx_conf() {
    mkdir -p "$tmp/nginx-temp"
    cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events {}
http {
    access_log off;
    default_type text/plain;
    sendfile on;
    tcp_nodelay on;
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    keepalive_requests 100000000;
    client_body_temp_path $tmp/nginx-temp/body;
    proxy_temp_path $tmp/nginx-temp/proxy;
    fastcgi_temp_path $tmp/nginx-temp/fastcgi;
    uwsgi_temp_path $tmp/nginx-temp/uwsgi;
    scgi_temp_path $tmp/nginx-temp/scgi;
    server {
        listen 127.0.0.1:${port[nginx]};
        root $tmp/html;
    }
}
EOF
}

# ---------------------------------------------------------------------------------------------
# Runs

# wrk's --latency output -> "req/s p50_us p99_us errors"
parse_wrk() {
    awk '
        function us(v) {
            if (v ~ /us$/) return v + 0
            if (v ~ /ms$/) return v * 1e3
            if (v ~ /m$/) return v * 60e6
            if (v ~ /s$/) return v * 1e6
            return v + 0
        }
        $1 == "50%" { p50 = us($2) }
        $1 == "99%" { p99 = us($2) }
        /^Requests\/sec:/ { rps = $2 }
        /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        END { printf "%s %s %s %d\n", rps, p50, p99, errors }
    ' "$1"
}

results=$tmp/results # N server round req/s p50_us p99_us
: >"$results"
declare -A conns=() bytes=()
chmod 755 "$tmp"
mkdir -p "$tmp/html"
chmod 755 "$tmp/html"
nginx_conf

for n in $SIZES; do
    c=1
    [ "$n" -le 1000 ] && c=10
    conns[$n]=$c
    start ours "$ours_bin" serve --series "$n" --port "${port[ours]}" --data "$DATA" --churn "$CHURN"
    [ "$DATA" != tidy ] || start peer "$peer_bin" --series "$n" --port "${port[peer]}"
    curl -sf -o "$tmp/html/metrics" "$(url ours)"
    chmod 644 "$tmp/html/metrics"
    start nginx "$NGINX" -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf"
    peer_bytes=-
    [ "$DATA" != tidy ] || peer_bytes=$(curl -sf "$(url peer)" | wc -c)
    bytes[$n]="$(stat -c %s "$tmp/html/metrics") / $peer_bytes"
    count=${#servers[@]}
    for round in $(seq 1 "$RUNS"); do
        for k in $(seq 0 $((count - 1))); do
            name=${servers[$(((round - 1 + k) % count))]}
            out=$tmp/wrk-$n-$name-$round.txt
            "${client_cpu[@]}" wrk -t1 -c"$c" -d"${DURATION}s" --latency "$(url "$name")" >"$out"
            read -r rps p50 p99 errors < <(parse_wrk "$out")
            [ -n "$rps" ] && [ -n "$p99" ] || { cat "$out" >&2; die "cannot parse wrk's output"; }
            echo "$n $name $round $rps $p50 $p99" >>"$results"
            printf 'N=%s round %s/%s %-5s %10.1f req/s  p50 %9.1f us  p99 %9.1f us%s\n' \
                "$n" "$round" "$RUNS" "$name" "$rps" "$p50" "$p99" \
                "$([ "$errors" = 0 ] || echo "  ($errors errors)")" >&2
        done
    done
    for name in "${servers[@]}"; do stop "$name"; done
done

# ---------------------------------------------------------------------------------------------
# Table

median() { # N server column
    awk -v n="$1" -v s="$2" -v col="$3" '$1 == n && $2 == s { print $col }' "$results" \
        | sort -g \
        | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fmt_rps() { awk -v v="$1" 'BEGIN { if (v == "") print "-"; else printf (v >= 100 ? "%.0f" : "%.1f"), v }'; }
fmt_us() {
    awk -v v="$1" 'BEGIN { if (v == "") { printf "-"; exit }
        if (v < 1000) printf "%.0f µs", v; else if (v < 1e6) printf "%.2f ms", v / 1e3; else printf "%.2f s", v / 1e6 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "" || a == "") print "-"; else printf "%.2f", a / b }'; }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
[ -z "$(git status --porcelain -- src examples Cargo.toml 2>/dev/null)" ] || commit="$commit + uncommitted changes"
echo
echo "Serving /metrics: $(nproc) cores, $(uname -r), $(rustc --version | cut -d' ' -f1-2)," \
    "$([ "$MUSL" = 1 ] && echo "static musl" || echo glibc) builds, $DATA data$([ "$DATA" = tidy ] || echo " (churn $CHURN)"), $("$NGINX" -v 2>&1 | sed 's|.*/||;s|^|nginx |'), wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2), at $commit."
echo "Medians of $RUNS rounds of wrk -t1 -d${DURATION}s --latency per server$([ "$PIN" = 1 ] && echo ", servers on CPU 1 and wrk on CPU 0"). ours ÷ x: req/s above 1 is ours faster; p99 below 1 is ours lower."
echo
echo "| N | body B (ours / peer) | conns | ours req/s | peer req/s | nginx req/s | req/s ours ÷ peer | req/s ours ÷ nginx | ours p50 / p99 | peer p50 / p99 | nginx p50 / p99 | p99 ours ÷ peer | p99 ours ÷ nginx |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in $SIZES; do
    declare -A r=() p50s=() p99s=()
    for name in ours peer nginx; do
        r[$name]=$(median "$n" "$name" 4)
        p50s[$name]=$(median "$n" "$name" 5)
        p99s[$name]=$(median "$n" "$name" 6)
    done
    row="| $n | ${bytes[$n]} | ${conns[$n]}"
    for name in ours peer nginx; do row="$row | $(fmt_rps "${r[$name]}")"; done
    row="$row | $(ratio "${r[ours]}" "${r[peer]}") | $(ratio "${r[ours]}" "${r[nginx]}")"
    for name in ours peer nginx; do row="$row | $(fmt_us "${p50s[$name]}") / $(fmt_us "${p99s[$name]}")"; done
    row="$row | $(ratio "${p99s[ours]}" "${p99s[peer]}") | $(ratio "${p99s[ours]}" "${p99s[nginx]}") |"
    echo "$row"
done
