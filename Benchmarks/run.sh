#!/usr/bin/env bash
# Compares prompt-listen with a Hummingbird peer, a Node peer and nginx on the same webhook
# work, on this machine, in one run. Prints one markdown table. Bounded (~5 minutes); stops only
# the PIDs it started. Usage: Benchmarks/run.sh [seconds-per-run, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
duration=${1:-5}
work="$root/Benchmarks/.work"
rm -rf "$work" && mkdir -p "$work"
pids=()
postgres_dir=
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [[ -n $postgres_dir ]]; then bash "$root/scripts/postgres.sh" stop "$postgres_dir" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "missing $1: apt-get install -y $2" >&2; exit 1; }; }
need wrk wrk; need hey hey; need nginx nginx-light; need node nodejs; need python3 python3

echo "building (release)..." >&2
swift build -c release --product prompt-listen >&2
swift build -c release --package-path Benchmarks --product HummingbirdPeer >&2
listen="$root/.build/release/prompt-listen"
peer="$root/Benchmarks/.build/release/HummingbirdPeer"

secret=benchmark-secret
printf '%s' "$secret" > "$work/secret"
body="$root/Tests/PromptEventsTests/Fixtures/bench-event.json"
signature=sha1=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha1).hexdigest())' "$secret" "$body")
export BENCH_BODY=$body BENCH_SIGNATURE=$signature
ticks=$(getconf CLK_TCK)

cpu_ticks() { # the process and its children (nginx's worker does nginx's work)
    local total=0 pid
    for pid in "$1" $(pgrep -P "$1"); do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
    echo "$total"
}
peak_rss_mib() { # the largest of the process and its children
    local pid
    for pid in "$1" $(pgrep -P "$1"); do awk '/VmHWM/ {print $2}' "/proc/$pid/status"; done | sort -n | tail -1 | awk '{printf "%.1f", $1 / 1024}'
}
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
to_ms() { # wrk latency such as 512.00us, 1.20ms, 2.01s
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

rows=()
extra_cpu_pid= # a second process whose CPU is the server's too (PostgreSQL behind the listener)
run_wrk() { # name pid port connections
    local name=$1 pid=$2 port=$3 c=$4 before after out rps p50 p99 requests errors extra_before=0 extra_after=0
    before=$(cpu_ticks "$pid")
    [[ -n $extra_cpu_pid ]] && extra_before=$(cpu_ticks "$extra_cpu_pid")
    out=$(wrk -t1 -c"$c" -d"${duration}s" --latency -s "$root/Benchmarks/peers/post.lua" "http://127.0.0.1:$port/message/added")
    after=$(cpu_ticks "$pid")
    [[ -n $extra_cpu_pid ]] && extra_after=$(cpu_ticks "$extra_cpu_pid")
    rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/ {s = s $0 " "} END {print s}' <<<"$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    local cpu=$(awk -v t=$((after - before)) -v k="$ticks" -v n="$requests" 'BEGIN {printf "%.1f", t / k * 1e6 / n}')
    if [[ -n $extra_cpu_pid ]]; then
        cpu+=" + $(awk -v t=$((extra_after - extra_before)) -v k="$ticks" -v n="$requests" 'BEGIN {printf "%.1f", t / k * 1e6 / n}') PostgreSQL"
    fi
    rows+=("| $name | keep-alive c$c | $rps | $p50 | $p99 | $cpu | ${errors:-0} |")
}

run_hey() { # name pid port
    local name=$1 pid=$2 port=$3 before after out rps p50 p99 requests n=$((duration * 3000)) extra_before=0 extra_after=0
    before=$(cpu_ticks "$pid")
    [[ -n $extra_cpu_pid ]] && extra_before=$(cpu_ticks "$extra_cpu_pid")
    out=$(hey -n "$n" -c 32 -disable-keepalive -m POST -T application/json -H "webhooktoken: abcdefg" \
        -H "X-Hub-Signature: $signature" -H "Prompt-EventType: message/added" -D "$body" "http://127.0.0.1:$port/message/added")
    after=$(cpu_ticks "$pid")
    [[ -n $extra_cpu_pid ]] && extra_after=$(cpu_ticks "$extra_cpu_pid")
    rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
    requests=$(awk '/\[200\]/ {print $2}' <<<"$out")
    p50=$(awk '/ 50% in/ {printf "%.3f", $3 * 1000}' <<<"$out")
    p99=$(awk '/ 99% in/ {printf "%.3f", $3 * 1000}' <<<"$out")
    local errors=$(awk '/Status code distribution/,0' <<<"$out" | grep -v '\[200\]' | grep -c '\[' || true)
    local cpu=$(awk -v t=$((after - before)) -v k="$ticks" -v n="${requests:-1}" 'BEGIN {printf "%.1f", t / k * 1e6 / n}')
    if [[ -n $extra_cpu_pid ]]; then
        cpu+=" + $(awk -v t=$((extra_after - extra_before)) -v k="$ticks" -v n="${requests:-1}" 'BEGIN {printf "%.1f", t / k * 1e6 / n}') PostgreSQL"
    fi
    rows+=("| $name | new connection c32 | $rps | $p50 | $p99 | $cpu | $errors |")
}

bench() { # name port command...
    local name=$1 port=$2
    shift 2
    "$@" &
    local pid=$!
    pids+=("$pid")
    wait_port "$port"
    # Warm up, then measure.
    wrk -t1 -c8 -d1s -s "$root/Benchmarks/peers/post.lua" "http://127.0.0.1:$port/message/added" >/dev/null
    for c in 1 32 256; do run_wrk "$name" "$pid" "$port" "$c"; done
    run_hey "$name" "$pid" "$port"
    rows+=("| $name | peak RSS | $(peak_rss_mib "$pid") MiB | | | | |")
    if [[ $name == *durable* ]]; then
        curl -s "http://127.0.0.1:$port/metrics" | grep -E '^promptevents_journal_(fsyncs_total|sync_batch_size_(sum|count))' > "$work/durable-metrics.txt" || true
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

common=(--header webhooktoken=abcdefg --hub-secret-file "$work/secret" --output json --dedup-window 0 --max-connections 20000)
bench "prompt-listen (memory)" 18080 bash -c "exec '$listen' --port 18080 ${common[*]} --ack memory >/dev/null 2>'$work/memory.log'"
bench "prompt-listen (durable)" 18081 bash -c "exec '$listen' --port 18081 ${common[*]} --ack durable --journal '$work/journal' >/dev/null 2>'$work/durable.log'"
if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
    # The PostgreSQL store: a throwaway server on this machine, its CPU counted beside the listener's.
    postgres_dir=$(mktemp -d)
    env_file=$(bash scripts/postgres.sh start "$postgres_dir" 2>/dev/null)
    # shellcheck source=/dev/null
    source "$env_file"
    extra_cpu_pid=$(head -1 "$postgres_dir/data/postmaster.pid")
    bench "prompt-listen (PostgreSQL)" 18085 bash -c "exec '$listen' --port 18085 ${common[*]} --ack durable --store '$PROMPT_EVENTS_TEST_POSTGRES_URL' >/dev/null 2>'$work/postgres.log'"
    extra_cpu_pid=
else
    echo "no PostgreSQL 15: the PostgreSQL store row is left out" >&2
fi
bench "Hummingbird 2 peer" 18082 "$peer" 18082 "$secret"
bench "Node http peer" 18083 node "$root/Benchmarks/peers/node-peer.js" 18083 "$secret"
sed "s/__PORT__/18084/" "$root/Benchmarks/peers/nginx.conf" > "$work/nginx.conf"
bench "nginx return 200 (ceiling)" 18084 nginx -c "$work/nginx.conf" -p "$work"

echo
echo "Machine: $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'); journal on $(stat -f -c %T "$work") ($(df --output=source "$work" | tail -1)); wrk -t1, ${duration}s per run."
awk '/fsyncs_total/ {s = $2} /batch_size_sum/ {sum = $2} /batch_size_count/ {n = $2} END {if (n) printf "Durable mode: %d fsyncs, %.1f records per fsync on average (group commit).\n", s, sum / n}' "$work/durable-metrics.txt"
echo
echo "| server | load | req/s | p50 ms | p99 ms | server CPU µs/req | errors |"
echo "|---|---|---:|---:|---:|---:|---|"
printf '%s\n' "${rows[@]}"
