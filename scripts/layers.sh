#!/usr/bin/env bash
# Prints the crate's import graph between its top-level modules (the layers), and fails if
# an import runs up the layers or the graph has a cycle. The order, lowest first, is the one
# ARCHITECTURE.md describes; a module may use only those before it.
#
#   bash scripts/layers.sh
set -euo pipefail
cd "$(dirname "$0")/../src"

layers=(wire log registry exposition http server exporter cli script)

rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && echo "$i" && return; done; echo -1; }

# `crate::<module>` in code (not in comments: `//` lines are skipped), per layer.
edges=$(for layer in "${layers[@]}"; do
    files=$(ls "$layer.rs" 2>/dev/null || find "$layer" -name '*.rs')
    # shellcheck disable=SC2086
    grep -hv '^\s*//' $files | grep -o 'crate::[a-z_]*' | sed 's/crate:://' | sort -u \
        | while read -r used; do
            [ "$used" != "$layer" ] && [ "$(rank "$used")" -ge 0 ] && echo "$layer $used"
        done
done | sort -u)

status=0
while read -r from to; do
    [ -z "$from" ] && continue
    if [ "$(rank "$to")" -lt "$(rank "$from")" ]; then
        echo "$from -> $to"
    else
        echo "$from -> $to   UP THE LAYERS"
        status=1
    fi
done <<< "$edges"
# With every arrow pointing down a total order, no cycle is possible; say so explicitly.
if [ "$status" -eq 0 ]; then echo "ok: every import runs down the layers (${layers[*]}): no cycle"; fi
exit "$status"
