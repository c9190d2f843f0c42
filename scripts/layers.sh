#!/usr/bin/env bash
# Prints the crate's import graph between its top-level modules (the layers), and fails if
# an import runs up the layers or the graph has a cycle. The order, lowest first, is the one
# ARCHITECTURE.md describes; a module may use only those before it.
#
#   bash scripts/layers.sh
set -euo pipefail
cd "$(dirname "$0")/../src"

layers=(wire log registry exposition http server exporter cli script)

rank() {
    local i
    for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && echo "$i" && return; done
    case "$1" in lib.rs*) echo "${#layers[@]}" ;; *) echo -1 ;; esac
}

# `crate::<module>` in code (not in comments: `//` lines are skipped), per layer.
edges=$(for layer in "${layers[@]}"; do
    files=$(ls "$layer.rs" 2>/dev/null || find "$layer" -name '*.rs')
    # shellcheck disable=SC2086
    # `crate::a::b` gives `a`; `crate::{a::b, c}` gives `a` and `c`. (`$crate` is a macro's.)
    grep -hv '^\s*//' $files | grep -v '\$crate' \
        | perl -ne 'while (/crate::(\{[^}]*\}|[A-Za-z_]\w*)/g) { my $m = $1;
              if ($m =~ s/^\{//) { print "$_\n" for map { (split /::/)[0] =~ s/^\s+|\s+$//gr } split /,/, $m =~ s/\}$//r }
              else { print "$m\n" } }' \
        | sort -u \
        | while read -r used; do
            # `log_*!` are `#[macro_export]`ed, so they live at the root; log.rs re-exports them.
            case "$used" in log_critical | log_error | log_warning | log_info | log_debug) continue ;; esac
            # A name from the crate root (`crate::Format`) is the façade, which sits on top.
            if [ "$(rank "$used")" -lt 0 ]; then echo "$layer lib.rs($used)"; continue; fi
            [ "$used" != "$layer" ] && echo "$layer $used"
        done
done | sort -u)

status=0
while read -r from to; do
    [ -z "$from" ] && continue
    to_rank=$(rank "$to")
    if [ "$to_rank" -lt "$(rank "$from")" ]; then
        echo "$from -> $to"
    else
        echo "$from -> $to   UP THE LAYERS"
        status=1
    fi
done <<< "$edges"
# With every arrow pointing down a total order, no cycle is possible; say so explicitly.
if [ "$status" -eq 0 ]; then echo "ok: every import runs down the layers (${layers[*]}): no cycle"; fi
exit "$status"
