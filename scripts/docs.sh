#!/usr/bin/env bash
# Builds the DocC documentation of the PromptEvents and PromptEventsServer libraries from an
# existing debug build, with every DocC warning an error. It never builds: run it after
# `swift build` or `swift test` (CI runs it after the tests). No package plugin is involved:
#
#   1. swift-symbolgraph-extract reads each built .swiftmodule and writes its public symbols and
#      their /// comments as a symbol graph;
#   2. every public symbol must have a doc comment of its own, and the sources must not have
#      changed since the build (needs python3; skipped without);
#   3. docc convert Sources/<Module>/<Module>.docc --warnings-as-errors builds each catalog
#      (landing page and topics) together with its module's symbol graph.
#
# Usage: bash scripts/docs.sh [--build-path DIR] [--output-dir DIR] [--coverage]
#   --build-path DIR   the build folder holding the modules (default .build/debug)
#   --output-dir DIR   keep <Module>.doccarchive there (default: a temporary folder, removed)
#   --coverage         also print DocC's experimental documentation coverage table per module
# Environment: SWIFT_SYMBOLGRAPH_EXTRACT, DOCC (tool paths), DOCS_TARGET (target triple).
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
ROOT=$PWD

modules=(PromptEvents PromptEventsServer)
build=.build/debug
output=
coverage=0
# Paths given on the command line are relative to where the script was called from.
absolute() { if [[ $1 == /* ]]; then echo "$1"; else echo "$caller/$1"; fi; }
while (($#)); do
    case $1 in
    --build-path) build=$(absolute "$2") && shift 2 ;;
    --output-dir) output=$(absolute "$2") && shift 2 ;;
    --coverage) coverage=1 && shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
    *) echo "docs.sh: unknown argument '$1' (see --help)" >&2 && exit 2 ;;
    esac
done

# The tools: on PATH, else next to the `swift` driver.
toolchain_bin=$(dirname "$(readlink -f "$(command -v swift || echo /usr/bin/swift)")")
tool() {
    local name=$1 override=$2
    if [[ -n $override ]]; then echo "$override"
    elif command -v "$name" >/dev/null; then command -v "$name"
    elif [[ -x $toolchain_bin/$name ]]; then echo "$toolchain_bin/$name"
    else echo "docs.sh: '$name' not found on PATH nor in $toolchain_bin" >&2 && return 1
    fi
}
extract=$(tool swift-symbolgraph-extract "${SWIFT_SYMBOLGRAPH_EXTRACT:-}")
docc=$(tool docc "${DOCC:-}")
target=${DOCS_TARGET:-$(swiftc -print-target-info | sed -n 's/^ *"triple": "\(.*\)",$/\1/p' | head -1)}

# SwiftPM 6 puts the modules in <build>/Modules; older versions in <build> itself.
modules_dir=$build/Modules
[[ -f $modules_dir/PromptEvents.swiftmodule ]] || modules_dir=$build
for module in "${modules[@]}"; do
    if [[ ! -f $modules_dir/$module.swiftmodule ]]; then
        echo "docs.sh: $modules_dir/$module.swiftmodule not found; build first (swift build)" >&2
        exit 1
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/prompt-events-docs.XXXXXX")
trap 'rm -rf "$work"' EXIT
[[ -n $output ]] || output=$work/archives
mkdir -p "$output" "$work/module-cache"

# PromptEventsServer imports the C module CPromptEventsLinux on Linux: use the module map the
# build generated, or an equivalent one when the build keeps it elsewhere.
module_map=$build/CPromptEventsLinux.build/module.modulemap
if [[ ! -f $module_map ]]; then
    module_map=$work/CPromptEventsLinux.modulemap
    printf 'module CPromptEventsLinux {\n    umbrella header "%s"\n    export *\n}\n' \
        "$ROOT/Sources/CPromptEventsLinux/include/CPromptEventsLinux.h" >"$module_map"
fi

# Checks a symbol graph: every public symbol documented, every doc comment still in its file.
cat >"$work/check-symbol-graph.py" <<'PY'
import json, sys, urllib.parse

# Compiler-synthesized members (Equatable's !=, RawRepresentable's init(rawValue:), ...) have no
# source location and are not ours to document. swift-symbolgraph-extract re-reads each doc
# comment from its source file at the offsets the build recorded, so a file edited after the
# build gives garbled comments (and bogus DocC warnings): each line must still be in the file.
graph = json.load(open(sys.argv[1]))
files = {}


def path_of(uri):
    return urllib.parse.unquote(uri.removeprefix("file://"))


def source_lines(uri):
    if uri not in files:
        try:
            with open(path_of(uri), "rb") as f:
                files[uri] = f.read().split(b"\n")
        except OSError:
            files[uri] = None
    return files[uri]


missing, stale = [], set()
for symbol in graph["symbols"]:
    location = symbol.get("location")
    if not location or "::SYNTHESIZED::" in symbol["identifier"]["precise"]:
        continue
    if symbol["kind"]["identifier"] == "swift.extension":
        continue
    doc = symbol.get("docComment")
    if not doc:
        name = ".".join(symbol["pathComponents"])
        missing.append((path_of(location["uri"]), location["position"]["line"] + 1, name))
        continue
    lines = source_lines(doc.get("uri", location["uri"]))
    for line in doc["lines"]:
        if lines is None or "range" not in line:
            continue
        number = line["range"]["start"]["line"]
        current = lines[number].rstrip(b"\r\t ") if number < len(lines) else b""
        text = line["text"].encode()
        before = current[: len(current) - len(text)].strip()
        if not current.endswith(text) or not before.startswith(b"///"):
            stale.add(path_of(doc.get("uri", location["uri"])))
            break

for path in sorted(stale):
    print(f"{path}: error: changed since the build, so its doc comments cannot be read; build first")
for path, line, name in sorted(missing):
    print(f"{path}:{line}: error: public symbol '{name}' has no documentation comment")
print(f"{len(graph['symbols'])} symbols, {len(missing)} undocumented, {len(stale)} files changed since the build")
sys.exit(2 if stale else 1 if missing else 0)
PY

run() {
    printf '+'
    printf ' %q' "$@"
    printf '\n'
    "$@"
}

echo "docs.sh: modules from $modules_dir (target $target)"
echo "docs.sh: tools $extract, $docc ($(swiftc --version 2>&1 | head -1))"
status=0
for module in "${modules[@]}"; do
    started=$SECONDS
    graphs=$work/symbol-graphs/$module
    mkdir -p "$graphs"
    echo "==> $module: symbol graph"
    run "$extract" -module-name "$module" -target "$target" \
        -I "$modules_dir" -Xcc "-fmodule-map-file=$module_map" \
        -module-cache-path "$work/module-cache" \
        -minimum-access-level public -skip-inherited-docs -emit-extension-block-symbols \
        -output-dir "$graphs"

    if command -v python3 >/dev/null; then
        echo "==> $module: every public symbol documented, no source changed since the build"
        checked=0
        python3 "$work/check-symbol-graph.py" "$graphs/$module.symbols.json" || checked=$?
        if ((checked == 2)); then
            echo "<== $module: skipping docc, whose warnings would be bogus; rebuild (swift build) first"
            status=1
            continue
        fi
        ((checked == 0)) || status=1
    else
        echo "==> $module: python3 not found, skipping the undocumented-symbol check"
    fi

    echo "==> $module: docc convert (warnings as errors)"
    coverage_flags=()
    ((coverage)) && coverage_flags=(--experimental-documentation-coverage --coverage-summary-level brief)
    rm -rf "${output:?}/$module.doccarchive"
    if run "$docc" convert "Sources/$module/$module.docc" \
        --additional-symbol-graph-dir "$graphs" \
        --fallback-display-name "$module" --fallback-bundle-identifier "$module" \
        --output-path "$output/$module.doccarchive" \
        --warnings-as-errors ${coverage_flags[@]+"${coverage_flags[@]}"}; then
        echo "<== $module: documentation built, $((SECONDS - started)) s"
    else
        echo "<== $module: docc reported problems (every warning is an error)"
        status=1
    fi
done

if ((status)); then
    echo "docs.sh: FAILED"
elif [[ $output == "$work/archives" ]]; then
    echo "docs.sh: OK (archives discarded; pass --output-dir DIR to keep them)"
else
    echo "docs.sh: OK, archives in $output"
fi
exit $status
