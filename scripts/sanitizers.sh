#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer and ThreadSanitizer, each in its own build
# folder (.build-asan, .build-tsan), and prints each one's result. A few minutes per sanitizer.
# Usage: scripts/sanitizers.sh [address] [thread]   (default: both)
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
sanitizers=("$@")
((${#sanitizers[@]})) || sanitizers=(address thread)
for name in "${sanitizers[@]}"; do
    folder=".build-${name:0:1}san"
    mkdir -p "$folder"
    echo "==> swift test --sanitize=$name"
    started=$SECONDS
    swift test --sanitize="$name" --scratch-path "$folder" >"$folder/test.log" 2>&1
    grep -E "Test run with" "$folder/test.log" | tail -1
    grep -E "SUMMARY: (Thread|Address|Leak)Sanitizer" "$folder/test.log" | sort | uniq -c
    if grep -qE "WARNING: ThreadSanitizer|ERROR: (Address|Leak)Sanitizer" "$folder/test.log"; then
        echo "<== $name: sanitizer reports (see $folder/test.log; leaks inside Foundation's Process"
        echo "    and Data(contentsOf:), used only by the tests, are known false positives)"
        status=1
    elif ! grep -qE "Test run with .* passed" "$folder/test.log"; then
        echo "<== $name: the build or some tests failed under the sanitizer (see $folder/test.log)"
        status=1
    else
        echo "<== $name: no sanitizer reports, $((SECONDS - started)) s"
    fi
done
exit $status
