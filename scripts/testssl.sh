#!/usr/bin/env bash
# Runs Debian's testssl.sh (3.0.8: `apt-get install testssl.sh`) once against the sample serving
# HTTPS on 127.0.0.1, with a CA and a server certificate made here by openssl (in a temporary
# directory, removed at the end: no private key is kept). Prints every finding rated MEDIUM or
# above and fails if one is HIGH or CRITICAL. Takes a few minutes; not part of CI.
# Usage: scripts/testssl.sh [extra testssl options]   (e.g. --fast)
# REPORT=file.json keeps testssl's JSON report (every finding, all severities).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v testssl >/dev/null || { echo "testssl not found: apt-get install testssl.sh"; exit 1; }
command -v jq >/dev/null || { echo "jq not found: apt-get install jq"; exit 1; }

cargo build --release --example sample --features tls --quiet
binary="$(realpath "${CARGO_TARGET_DIR:-target}/release/examples/sample")"

dir="$(mktemp -d)"
pid=""
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
[ -z "${REPORT:-}" ] || REPORT="$(realpath "$REPORT")"
cd "$dir"
# A P-256 CA, and a server certificate signed by it for localhost and 127.0.0.1. testssl also
# rates the certificate (not the server): it is made like a public CA's, valid 90 days and with
# a CRL distribution point, so that those findings do not hide the server's.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=test-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout ca.key -out ca.pem 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 -subj /CN=localhost \
    -CA ca.pem -CAkey ca.key -addext basicConstraints=critical,CA:FALSE \
    -addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=serverAuth \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -addext crlDistributionPoints=URI:http://127.0.0.1/test-ca.crl \
    -keyout server.key -out server.pem 2>/dev/null

"$binary" -H 127.0.0.1 -p 0 -L info --ssl-private-key server.key \
    --ssl-public-key server.pem 2>exporter.log &
pid=$!
port=""
for _ in $(seq 1 100); do
    port="$(grep -o 'listening on https://127\.0\.0\.1:[0-9]*' exporter.log | grep -o '[0-9]*$' || true)"
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat exporter.log; echo "the exporter died"; exit 1; }
    sleep 0.1 # polling the log for the readiness line, bounded to 10 s
done
[ -n "$port" ] || { cat exporter.log; echo "no readiness line"; exit 1; }

echo "testssl $(testssl --version 2>/dev/null | grep -o '3\.[0-9.]*' | head -1) against https://127.0.0.1:$port"
status=0
testssl --quiet --color 0 --warnings batch --add-ca ca.pem --jsonfile report.json "$@" \
    "https://127.0.0.1:$port/metrics" >report.txt 2>&1 || status=$?
# testssl's exit status counts findings and problems: the JSON report is what is judged.
[ -s report.json ] || { cat report.txt; echo "testssl wrote no report (exit $status)"; exit 1; }
[ -z "${REPORT:-}" ] || cp report.json "$REPORT"
echo "findings rated MEDIUM or above (id, severity, finding):"
jq -r '.[] | select(.severity == "MEDIUM" or .severity == "HIGH" or .severity == "CRITICAL")
    | "  \(.id)  \(.severity)  \(.finding)"' report.json
serious=$(jq '[.[] | select(.severity == "HIGH" or .severity == "CRITICAL")] | length' report.json)
echo "severity counts: $(jq -r '[.[].severity] | group_by(.) | map("\(.[0])=\(length)") | join(" ")' report.json)"
[ "$serious" -eq 0 ] || { echo "$serious finding(s) rated HIGH or CRITICAL"; exit 1; }
echo "testssl: no finding rated HIGH or CRITICAL"
