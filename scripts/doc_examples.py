#!/usr/bin/env python3
"""List the public items of the crate whose docs have no code block (no runnable example).

Reads rustdoc's JSON output, which needs nightly:
    cargo +nightly rustdoc --lib --all-features -- -Z unstable-options --output-format json
    python3 scripts/doc_examples.py [target/doc/prometheus_aioexporter.json]
An example is a code block rustdoc compiles (`no_run` counts; `ignore`, `text` and
`compile_fail` do not). Walks what `cargo doc` shows: the root's items and re-exports, public modules, inherent
methods and associated consts, trait items. Enum variants and struct fields are not counted
(their type carries the example). `#[doc(hidden)]` items are skipped.
"""
import json
import os
import sys

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.environ.get("CARGO_TARGET_DIR", "target"), "doc", "prometheus_aioexporter.json")
doc = json.load(open(path))
index = doc["index"]


def hidden(item):
    return any("hidden" in str(a) for a in item.get("attrs", []))


def has_example(item):
    """`true` if the docs hold a code block rustdoc compiles: a fence without `ignore`,
    `text` or another language (`no_run` counts; `compile_fail` does not)."""
    inside = False
    for line in (item.get("docs") or "").splitlines():
        line = line.strip()
        if not line.startswith("```"):
            continue
        if inside:
            inside = False
            continue
        inside = True
        words = [w.strip() for w in line[3:].split(",") if w.strip()]
        if all(w in ("rust", "no_run", "should_panic") or w.startswith("edition") for w in words):
            return True
    return False


seen, rows = set(), []


def visit(item_id, prefix):
    item = index.get(str(item_id))
    if item is None or item_id in seen or hidden(item):
        return
    seen.add(item_id)
    kind, inner = next(iter(item["inner"].items()))
    name = item["name"]
    if kind == "use":
        if inner.get("id") is not None:
            target = index.get(str(inner["id"]))
            if target is not None and target["crate_id"] == 0:
                visit(inner["id"], prefix)
        return
    full = f"{prefix}::{name}" if prefix else name
    if kind == "module":
        is_root = item_id == doc["root"]
        rows.append((kind, "crate root" if is_root else full, has_example(item)))
        for child in inner["items"]:
            visit(child, "" if is_root else full)
        return
    if kind in ("impl", "variant", "struct_field"):
        return
    rows.append((kind, full, has_example(item)))
    if kind in ("struct", "enum", "union"):
        for impl_id in inner.get("impls", []):
            impl = index[str(impl_id)]["inner"]["impl"]
            if impl.get("trait") is not None or impl.get("synthetic") or impl.get("blanket_impl"):
                continue
            for child in impl["items"]:
                c = index[str(child)]
                if c["visibility"] == "public" and not hidden(c):
                    visit(child, full)
    elif kind == "trait":
        for child in inner["items"]:
            visit(child, full)


visit(doc["root"], "")
missing = [r for r in rows if not r[2]]
for kind, full, _ in missing:
    print(f"{kind:10} {full}")
print(f"{len(missing)} of {len(rows)} public items have no code block", file=sys.stderr)
