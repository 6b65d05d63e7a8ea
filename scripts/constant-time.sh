#!/usr/bin/env bash
# Shows that the MAC/token comparison costs the same whether the inputs differ in their first or
# their last byte, by counting instructions under valgrind's callgrind (wall time would be noise).
# Usage: scripts/constant-time.sh   (builds the release micro-benchmark binary if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product PromptEventsMicroBenchmarks >/dev/null
binary=.build/release/PromptEventsMicroBenchmarks
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count() { # first|last -> instructions inside constantTimeEquals
    valgrind --tool=callgrind --callgrind-out-file="$work/$1.out" "$binary" --constant-time "$1" >/dev/null 2>&1
    callgrind_annotate "$work/$1.out" 2>/dev/null | awk '/constantTimeEquals/ {gsub(",", "", $1); total += $1} END {print total + 0}'
}
first=$(count first)
last=$(count last)
echo "instructions in constantTimeEquals, 100,000 comparisons of 32 bytes:"
echo "  differing in the first byte: $first"
echo "  differing in the last byte:  $last"
if [[ "$first" -gt 0 && "$first" == "$last" ]]; then
    echo "equal: the comparison does not depend on where the bytes differ"
else
    echo "NOT equal" && exit 1
fi
