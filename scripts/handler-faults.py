#!/usr/bin/env python3
"""Handler faults at scale: failing, hanging and self-killing --exec commands against the real process.

Starts `prompt-listen` on 127.0.0.1 (durable journal in a temporary directory, `--output quiet`,
`--dedup-window 0`, `--max-attempts 3`, `--exec-timeout 1`) with one `--exec` per event kind:

  customer/added  exits 3                     (fail)
  customer/optOut sleeps 30 s, past the 1 s --exec-timeout   (hang)
  contactAction   kills its own shell with SIGKILL           (kill)
  message/added   reads its stdin and succeeds               (ok)

Each command first appends its delivery id to a log file, so attempts are counted outside the
server too. Several hundred signed deliveries (default 400, mixed 50 % ok, 20 % fail, 20 % kill,
10 % hang) are sent over a few seconds from 4 keep-alive clients, then probes (message/status, no
handler) keep going until every delivery has settled.

Passes when: every delivery and probe is answered 2xx; each failing delivery ran exactly
--max-attempts times and is dead-lettered (journal state, `journal show` reason, the
dead-letter and retry metrics); each ok delivery ran once with its whole body and is done;
nothing is pending; no child process (zombie or not) of the server remains, and no process
started by a handler survives (found by a marker in their environment); RSS after settling is
bounded (at most 1.5 x the RSS before the load + 8 MiB). Bounded: about 30 s, at most ~90 s.

Retry backoff is 1 s base with full jitter (RetryPolicy defaults; no flag or variable shortens
it), so with 3 attempts a failing delivery waits at most 1 + 2 s between attempts.

Usage: scripts/handler-faults.py [--deliveries N] [--max-attempts N] [--binary PATH]
Exit status 0 when every check holds; prints a summary.
"""
import argparse, collections, http.client, json, os, random, shutil, signal, subprocess, sys, tempfile, threading, time, uuid

from listener import DEFAULT_BINARY, metrics, signature, wait_for_port

SECRET = "handler-faults-secret"
KINDS = {  # category -> (event kind, command)
    "fail": ("customer/added", 'echo "$PROMPT_DELIVERY_ID" >> "$FAULTS_DIR/fail.log"; echo failing on purpose; exit 3'),
    "hang": ("customer/optOut", 'echo "$PROMPT_DELIVERY_ID" >> "$FAULTS_DIR/hang.log"; sleep 30; echo unreachable'),
    "kill": ("contactAction", 'echo "$PROMPT_DELIVERY_ID" >> "$FAULTS_DIR/kill.log"; kill -9 $$'),
    "ok": ("message/added", 'n=$(wc -c); echo "$PROMPT_DELIVERY_ID $n" >> "$FAULTS_DIR/ok.log"'),
}
EXPECTED_ERROR = {"fail": "exit status 3", "hang": "timed out", "kill": "killed by signal 9"}
PROBE_KIND = "message/status"  # no handler: answered and finished at once


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def children(pid):
    """(pid, state, command) of every process whose parent is pid."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append((int(name), fields[0], stat[stat.index("(") + 1:stat.rindex(")")]))
    return found


def tagged(tag, exclude):
    """Processes other than `exclude` whose environment carries the marker (handler leftovers)."""
    needle = f"FAULTS_TAG={tag}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in exclude:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    with open(f"/proc/{name}/stat") as stat:
                        found.append((int(name), stat.read().split(") ")[0] + ")"))
        except OSError:
            continue
    return found


class Client:
    """One keep-alive connection posting signed deliveries; reconnects after an error."""

    def __init__(self, port):
        self.port, self.connection = port, None

    def post(self, kind, body):
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self.connection.request("POST", "/" + kind, body=body, headers={
                "Content-Type": "application/json", "Prompt-EventType": kind, "X-Hub-Signature": signature(SECRET, body)})
            response = self.connection.getresponse()
            response.read()
            status = response.status
        except OSError as error:
            self.connection = None
            status = f"{type(error).__name__}: {error}"
        return status, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=400)
    parser.add_argument("--send-seconds", type=float, default=4.0, help="spread the deliveries over this long")
    parser.add_argument("--max-attempts", type=int, default=3)
    parser.add_argument("--exec-timeout", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16, help="--concurrency of the server (its default: 16)")
    parser.add_argument("--settle-timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.binary)
    rng = random.Random(arguments.seed)
    begun = time.monotonic()

    # The plan: which category each delivery belongs to, shuffled.
    total = arguments.deliveries
    counts = {"fail": total // 5, "kill": total // 5, "hang": total // 10}
    counts["ok"] = total - sum(counts.values())
    plan = [category for category, count in counts.items() for _ in range(count)]
    rng.shuffle(plan)

    work = tempfile.mkdtemp(prefix="prompt-listen-faults-")
    journal = os.path.join(work, "journal")
    log_path = os.path.join(work, "server.log")
    tag = uuid.uuid4().hex
    command = [binary, "--port", "0", "--journal", journal, "--output", "quiet", "--dedup-window", "0",
               "--max-attempts", str(arguments.max_attempts), "--exec-timeout", str(arguments.exec_timeout),
               "--concurrency", str(arguments.concurrency)]
    order = ["fail", "hang", "kill", "ok"]
    for category in order:
        kind, script = KINDS[category]
        command += ["--exec", f"{kind}={script}"]
    handler_name = {category: f"exec:{KINDS[category][0]}={KINDS[category][1]}" for category in order}
    server = subprocess.Popen(command, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=open(log_path, "wb"),
                              env=dict(os.environ, PROMPT_LISTEN_HUB_SECRET=SECRET, FAULTS_DIR=work, FAULTS_TAG=tag))
    failures = []
    try:
        port = wait_for_port(log_path, server)
        print(f"handler faults: {os.path.basename(binary)} pid {server.pid} on 127.0.0.1:{port}; "
              f"{total} deliveries ({', '.join(f'{counts[c]} {c}' for c in order)}), --max-attempts "
              f"{arguments.max_attempts}, --exec-timeout {arguments.exec_timeout}, --concurrency {arguments.concurrency}, "
              f"seed {arguments.seed}")

        # Warm up with probes, then take the RSS baseline.
        warm = Client(port)
        for seq in range(20):
            status, _ = warm.post(PROBE_KIND, json.dumps({"orgId": 1, "probe": -1 - seq}).encode())
            if status != 200:
                failures.append(f"warm-up probe answered {status}")
        time.sleep(0.3)
        rss_before = rss_kib(server.pid)

        # Watch the server's children and RSS while things run.
        stop_watch = threading.Event()
        watch = {"max_children": 0, "max_zombies": 0, "max_rss": rss_before}

        def watcher():
            while not stop_watch.wait(0.25):
                kids = children(server.pid)
                watch["max_children"] = max(watch["max_children"], len(kids))
                watch["max_zombies"] = max(watch["max_zombies"], sum(1 for _, state, _ in kids if state == "Z"))
                try:
                    watch["max_rss"] = max(watch["max_rss"], rss_kib(server.pid))
                except OSError:
                    return

        watch_thread = threading.Thread(target=watcher, daemon=True)
        watch_thread.start()

        # Send the deliveries from 4 clients, paced over --send-seconds.
        answers = collections.Counter()
        latencies = []
        bad = []
        lock = threading.Lock()
        interval = arguments.send_seconds / max(1, total)
        send_started = time.monotonic()

        def sender(index):
            client = Client(port)
            for seq in range(index, total, 4):
                delay = send_started + seq * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                kind = KINDS[plan[seq]][0]
                status, latency = client.post(kind, json.dumps({"orgId": 7, "seq": seq}).encode())
                with lock:
                    answers[status] += 1
                    latencies.append(latency)
                    if status != 200:
                        bad.append((seq, kind, status))

        senders = [threading.Thread(target=sender, args=(i,)) for i in range(4)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        send_elapsed = time.monotonic() - send_started

        # Probe while the failures are retried, until nothing is pending.
        probe = Client(port)
        probes = collections.Counter()
        probe_latencies = []
        settle_deadline = time.monotonic() + arguments.settle_timeout
        settled_after = None
        seq = 0
        values = {}
        while time.monotonic() < settle_deadline:
            seq += 1
            status, latency = probe.post(PROBE_KIND, json.dumps({"orgId": 7, "probe": seq}).encode())
            probes[status] += 1
            probe_latencies.append(latency)
            if status != 200:
                bad.append((f"probe {seq}", PROBE_KIND, status))
            if seq % 5 == 0:
                values = metrics(port)
                if values.get("promptevents_journal_pending_deliveries", 1) == 0:
                    settled_after = time.monotonic() - send_started
                    break
            time.sleep(0.1)
        if settled_after is None:
            failures.append(f"deliveries still pending after {arguments.settle_timeout:.0f} s: "
                            f"{values.get('promptevents_journal_pending_deliveries')}")
        time.sleep(1.5)  # let the last children be reaped
        stop_watch.set()
        watch_thread.join()
        values = metrics(port)
        rss_after = rss_kib(server.pid)
        rss_peak = rss_kib(server.pid, "VmHWM")
        left_children = children(server.pid)
        leftovers = tagged(tag, exclude={server.pid, os.getpid()})
        status, _ = Client(port).post(PROBE_KIND, json.dumps({"orgId": 7, "probe": "final"}).encode())
        if status != 200:
            failures.append(f"final probe answered {status}")

        # The journal, read-only beside the running server.
        exported = subprocess.run([binary, "journal", "export", "--journal", journal], capture_output=True, text=True,
                                  timeout=30)
        if exported.returncode != 0:
            failures.append(f"journal export failed: {exported.stderr.strip()}")
        by_seq, states = {}, collections.Counter()
        for line in exported.stdout.splitlines():
            entry = json.loads(line)
            body = entry.get("body") or {}
            states[entry["state"]] += 1
            if "seq" in body:
                by_seq[body["seq"]] = entry
        listing = subprocess.run([binary, "journal", "list", "--journal", journal, "--limit", "1"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
        listing = listing.splitlines()[0] if listing else "?"
        dead_listed = listing.split("dead:")[1].split()[0] if "dead:" in listing else None
        if dead_listed != str(counts["fail"] + counts["hang"] + counts["kill"]):
            failures.append(f"journal list reports '{listing}'")

        # Attempts as the commands themselves logged them.
        attempts = {}
        for category in order:
            attempts[category] = collections.Counter()
            path = os.path.join(work, f"{category}.log")
            if os.path.exists(path):
                for line in open(path):
                    if line.strip():
                        attempts[category][int(line.split()[0])] += 1
        ok_sizes = {}
        if os.path.exists(os.path.join(work, "ok.log")):
            for line in open(os.path.join(work, "ok.log")):
                identifier, size = line.split()
                ok_sizes[int(identifier)] = int(size)

        # Per-delivery checks.
        problems = collections.defaultdict(list)
        ids = {category: [] for category in order}
        for seq, category in enumerate(plan):
            entry = by_seq.get(seq)
            if entry is None:
                problems[category].append(f"seq {seq} not in the journal")
                continue
            identifier = entry["id"]
            ids[category].append(identifier)
            ran = attempts[category][identifier]
            if category == "ok":
                if entry["state"] != "done":
                    problems[category].append(f"delivery {identifier} is {entry['state']}")
                if ran != 1:
                    problems[category].append(f"delivery {identifier} ran {ran} times")
                expected_size = len(json.dumps({"orgId": 7, "seq": seq}).encode())
                if ok_sizes.get(identifier) != expected_size:
                    problems[category].append(f"delivery {identifier} read {ok_sizes.get(identifier)} of {expected_size} bytes")
            else:
                if entry["state"] not in ("dead", "deadLettered"):
                    problems[category].append(f"delivery {identifier} is {entry['state']}")
                if ran != arguments.max_attempts:
                    problems[category].append(f"delivery {identifier} ran {ran} times")
        for category in order:
            if problems[category]:
                failures.append(f"{category}: {len(problems[category])} problems, e.g. " + "; ".join(problems[category][:3]))

        # `journal show` for a few deliveries of each failing kind: attempts and reason.
        shown = 0
        for category in ("fail", "hang", "kill"):
            sample = ids[category][:1] + ids[category][-1:] + rng.sample(ids[category], min(2, len(ids[category])))
            for identifier in dict.fromkeys(sample):
                text = subprocess.run([binary, "journal", "show", str(identifier), "--journal", journal],
                                      capture_output=True, text=True, timeout=30).stdout
                shown += 1
                want = f"handler {handler_name[category]}: deadLettered, {arguments.max_attempts} attempt(s)"
                reason = next((l for l in text.splitlines() if l.startswith("dead letter:")), "")
                if want not in text or EXPECTED_ERROR[category] not in reason:
                    failures.append(f"journal show {identifier} ({category}): expected '{want}' and a reason with "
                                    f"'{EXPECTED_ERROR[category]}', got:\n" + "\n".join(text.splitlines()[:6]))

        # Metrics.
        failing = counts["fail"] + counts["hang"] + counts["kill"]
        expect = {
            "promptevents_handler_dead_letters_total": failing,
            "promptevents_handler_retries_total": failing * (arguments.max_attempts - 1),
            "promptevents_journal_dead_letters": failing,
            "promptevents_journal_pending_deliveries": 0,
        }
        for name, want in expect.items():
            if values.get(name) != want:
                failures.append(f"metric {name} = {values.get(name)}, expected {want}")
        accepted = values.get("promptevents_deliveries_authenticated_total", 0)
        if values.get("promptevents_deliveries_dispatched_total") != accepted:
            failures.append(f"dispatched {values.get('promptevents_deliveries_dispatched_total')} != accepted {accepted}")

        # Server log: one warning per failed attempt.
        log_text = open(log_path, errors="replace").read()
        warned = {category: log_text.count(f"handler '{handler_name[category]}' for ") for category in ("fail", "hang", "kill")}
        for category, count in warned.items():
            if count != counts[category] * arguments.max_attempts:
                failures.append(f"{count} failure warnings logged for {category}, expected "
                                f"{counts[category] * arguments.max_attempts}")
        # An ok command should never fail; if one did (a CI run once counted one retry too many),
        # say which and why, from its warning lines.
        ok_failures = [line for line in log_text.splitlines() if f"handler '{handler_name['ok']}' for " in line]
        if ok_failures:
            failures.append(f"{len(ok_failures)} attempts of the ok command failed, e.g. " + " | ".join(ok_failures[:3]))

        # Answers, processes, memory.
        if bad:
            failures.append(f"{len(bad)} deliveries or probes not answered 200, e.g. {bad[:3]}")
        if left_children:
            failures.append(f"children of the server left after settling: {left_children[:5]}")
        if leftovers:
            failures.append(f"processes started by handlers still alive: {leftovers[:5]}")
        bound = rss_before * 1.5 + 8 * 1024
        if rss_after > bound:
            failures.append(f"RSS after settling {rss_after / 1024:.1f} MiB > bound {bound / 1024:.1f} MiB")

        # Summary.
        def ms(values_, q):
            ordered = sorted(values_)
            return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else 0
        print(f"sent {total} deliveries in {send_elapsed:.1f} s: answers {dict(answers)}, "
              f"p50 {ms(latencies, .5):.1f} ms, p99 {ms(latencies, .99):.1f} ms, max {ms(latencies, 1):.1f} ms")
        print(f"probes while retrying: {sum(probes.values())}, answers {dict(probes)}, p99 {ms(probe_latencies, .99):.1f} ms; "
              f"settled {settled_after:.1f} s after the first delivery" if settled_after else
              f"probes while retrying: {sum(probes.values())}, answers {dict(probes)}; NOT settled")
        for category in order:
            runs = collections.Counter(attempts[category][i] for i in ids[category])
            print(f"  {category:4} {KINDS[category][0]:16} {counts[category]:4} deliveries, attempts per delivery "
                  f"{dict(sorted(runs.items()))}, journal states "
                  f"{dict(collections.Counter(by_seq[s]['state'] for s, c in enumerate(plan) if c == category and s in by_seq))}, "
                  f"warnings {warned.get(category, '-')}")
        print(f"journal: {len(by_seq)} planned deliveries found, all states {dict(states)}; journal list: '{listing}'; "
              f"{shown} checked with journal show")
        print("metrics: " + ", ".join(f"{name.replace('promptevents_', '')} {values.get(name, 0):.0f}" for name in [
            "promptevents_deliveries_authenticated_total", "promptevents_deliveries_dispatched_total",
            "promptevents_handler_retries_total", "promptevents_handler_dead_letters_total",
            "promptevents_handler_timeouts_total", "promptevents_journal_dead_letters",
            "promptevents_journal_pending_deliveries", "promptevents_journal_write_errors_total"]))
        print(f"processes: at most {watch['max_children']} children at once ({watch['max_zombies']} zombies at most) "
              f"during the run; {len(left_children)} children and {len(leftovers)} handler processes left after settling")
        print(f"RSS: before {rss_before / 1024:.1f} MiB, peak sampled {watch['max_rss'] / 1024:.1f} MiB, "
              f"after {rss_after / 1024:.1f} MiB (bound {bound / 1024:.1f} MiB), VmHWM {rss_peak / 1024:.1f} MiB")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                failures.append("the server did not stop within 30 s of SIGTERM")
        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print("FAIL: " + failure)
    print(f"handler faults: {'PASS' if not failures else 'FAIL'} in {time.monotonic() - begun:.0f} s, "
          f"server exit status {server.returncode}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
