#!/usr/bin/env bash
# Builds and runs the libFuzzer targets in Fuzz/ (see Fuzz/README.md).
#
#   scripts/fuzz.sh <target|all> [seconds-per-target]     build, then fuzz (default 30 s)
#   scripts/fuzz.sh build <target|all>                    build only
#   scripts/fuzz.sh repro <target> <input>...             run inputs once (no fuzzing)
#   scripts/fuzz.sh seeds                                 regenerate Fuzz/Corpus/journal seeds
#
# Targets: http, json, signature, journal, postgres.
#
# Each target is compiled with swiftc (not SwiftPM): the library sources it needs and the target
# file form ONE module named PromptEvents, so the server files' `import PromptEvents` is ignored
# (a warning) and `package`/internal API is reachable. No source file is modified.
#
# A run fuzzes a fresh copy of Fuzz/Corpus/<target> in .build/fuzz/corpus-<target> (set
# FUZZ_KEEP_CORPUS=1 to keep what earlier runs found), with -max_total_time, -timeout=10 and
# -rss_limit_mb=2048. Crashes, leaks, timeouts and OOMs are written to
# .build/fuzz/artifacts/<target>/ and make the script exit non-zero after printing the path.
#
# The Swift runtime's backtracer is turned off (SWIFT_BACKTRACE=enable=no): under ASan it
# reports a bogus stack-buffer-underflow of its own after every trap.
#
# Environment: FUZZ_OPT (default -O; -Onone builds faster and gives exact stacks),
# FUZZ_EXTRA_ARGS (more libFuzzer flags), SWIFTC (default swiftc).
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=.build/fuzz
SWIFTC=${SWIFTC:-swiftc}
OPT=${FUZZ_OPT:--O}
TARGETS=(http json signature journal postgres)

die() { echo "fuzz.sh: $*" >&2; exit 2; }

# Sources of each target, one module.
sources() {
    local library
    library=$(find Sources/PromptEvents -name '*.swift' | LC_ALL=C sort)
    case $1 in
    http) echo "$library" Sources/PromptEventsServer/HTTP/*.swift Fuzz/HTTPParser.swift ;;
    json) echo "$library" Fuzz/JSON.swift ;;
    signature) echo "$library" Fuzz/Signature.swift ;;
    journal)
        echo "$library" Sources/PromptEventsServer/Journal/*.swift Sources/PromptEventsServer/Store/DeliveryStore.swift \
            Sources/PromptEventsServer/Store/InMemoryDeliveryStore.swift Sources/PromptEventsServer/Metrics/*.swift \
            Sources/PromptEventsServer/Dispatch/AcknowledgementMode.swift Fuzz/JournalRecoveryTarget.swift
        ;;
    postgres)
        echo "$library" Sources/PromptEventsServer/Postgres/PostgresProtocol.swift \
            Sources/PromptEventsServer/Postgres/PostgresValue.swift Sources/PromptEventsServer/Postgres/PostgresError.swift \
            Sources/PromptEventsServer/Postgres/SCRAM*.swift Sources/PromptEventsServer/Journal/DeduplicationIndex.swift \
            Fuzz/PostgresMessages.swift
        ;;
    *) die "unknown target '$1' (targets: ${TARGETS[*]}, all)" ;;
    esac
}

build() {
    local target=$1 binary=$OUT/$1 files stamp
    files=$(sources "$target") || exit 2
    mkdir -p "$OUT"
    stamp="$OPT"
    # Rebuild when a source or the optimization level changed.
    if [[ -x $binary && -f $binary.opt && $(cat "$binary.opt") == "$stamp" ]] &&
        [[ -z $(find $files -newer "$binary" 2>/dev/null) ]]; then
        return 0
    fi
    echo "== building $target ($OPT)"
    # Swift 6 language mode and the upcoming features Package.swift enables for every target.
    # shellcheck disable=SC2086
    if ! "$SWIFTC" -sanitize=fuzzer,address -parse-as-library -swift-version 6 \
        -enable-upcoming-feature ExistentialAny \
        -enable-upcoming-feature MemberImportVisibility \
        -enable-upcoming-feature InternalImportsByDefault \
        -package-name PromptEvents -module-name PromptEvents \
        "$OPT" -g \
        $files -o "$binary" 2> "$OUT/$target.build.log"; then
        grep -v "ignoring import" "$OUT/$target.build.log" | grep -A6 "error:" >&2
        die "building $target failed (full log: $OUT/$target.build.log)"
    fi
    echo "$stamp" > "$binary.opt"
}

run() {
    local target=$1 seconds=$2 corpus=$OUT/corpus-$1 artifacts=$OUT/artifacts/$1 log=$OUT/$1.log status
    if [[ ${FUZZ_KEEP_CORPUS:-0} != 1 ]]; then rm -rf "$corpus"; fi
    mkdir -p "$corpus" "$artifacts"
    cp -n Fuzz/Corpus/"$target"/* "$corpus"/ 2>/dev/null
    echo "== fuzzing $target for ${seconds}s (corpus $corpus, log $log)"
    # shellcheck disable=SC2086
    SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no} ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:handle_abort=1} \
        "$OUT/$target" "$corpus" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_EXTRA_ARGS:-} \
        > "$log" 2>&1
    status=$?
    # libFuzzer's last status line (#N DONE cov: … ft: … corp: …) and final stats.
    grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1
    grep -E '^stat::' "$log"
    echo "corpus files: $(find "$corpus" -type f | wc -l)"
    grep -E '^SOFT-MISMATCH' "$log" | cut -c1-300
    if [[ $status -ne 0 ]] || grep -qE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|Test unit written to' "$log"; then
        echo "!! $target FAILED (exit $status)"
        grep -E 'ERROR: |SUMMARY: |Fatal error|fatal error' "$log" | head -5
        grep -E 'Test unit written to|^artifact_prefix' "$log" | sed 's/^/!! reproducer: /'
        echo "!! reproduce with: scripts/fuzz.sh repro $target <reproducer>   (full log: $log)"
        return 1
    fi
    return 0
}

expand() {
    if [[ $1 == all ]]; then echo "${TARGETS[@]}"; else sources "$1" > /dev/null && echo "$1"; fi
}

case ${1:-} in
"" | -h | --help)
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
build)
    for target in $(expand "${2:-all}"); do build "$target"; done
    ;;
repro)
    target=${2:-}
    [[ -n $target && $# -ge 3 ]] || die "usage: scripts/fuzz.sh repro <target> <input>..."
    build "$target"
    shift 2
    exec "$OUT/$target" -timeout=10 -rss_limit_mb=2048 "$@"
    ;;
seeds)
    build journal
    PROMPT_FUZZ_WRITE_SEEDS="$ROOT/Fuzz/Corpus/journal" "$OUT/journal"
    ;;
*)
    targets=$(expand "$1") || exit 2
    seconds=${2:-30}
    [[ $seconds =~ ^[0-9]+$ ]] || die "seconds must be a whole number, not '$seconds'"
    for target in $targets; do build "$target"; done
    failed=()
    for target in $targets; do
        run "$target" "$seconds" || failed+=("$target")
    done
    if ((${#failed[@]})); then
        echo "== FAILED: ${failed[*]}"
        exit 1
    fi
    echo "== all passed: $targets"
    ;;
esac
