#!/usr/bin/env python3
"""Soak: 256 keep-alive connections post signed deliveries for N seconds; memory must stay flat.

Starts `prompt-listen` on 127.0.0.1 (default `--ack durable` on a temporary journal,
`--output quiet`, `--dedup-window 0`), drives it with `wrk -t1 -c256 -dN` and
Benchmarks/peers/post.lua (the signed 1.5 KB payload of Benchmarks/run.sh), and samples the
server's RSS (/proc/PID/status VmRSS) every second.

Passes when: wrk reports no socket errors and no non-2xx answers (and the server logged no
non-200 request); every RSS sample after the first 10 s is within 10 % of the sample at 10 s;
the server still answers a signed delivery with 2xx after the soak. Also reports req/s, total
requests and the RSS series (first, at 10 s, min, max, last). Bounded: about N + 30 seconds.
wrk and the server share the machine's CPUs.

Usage: scripts/soak.py [--seconds N] [--ack durable|after-handlers|memory] [--binary PATH]
Exit status 0 when every criterion holds; prints a summary.
"""
import argparse, http.client, os, re, resource, shutil, signal, subprocess, sys, tempfile, threading, time

from listener import DEFAULT_BINARY, metrics, signature, wait_for_port

SECRET = "benchmark-secret"          # as Benchmarks/run.sh
HEADER_TOKEN = "webhooktoken=abcdefg"  # post.lua sends `webhooktoken: abcdefg`
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BODY = os.path.join(ROOT, "Tests", "PromptEventsTests", "Fixtures", "bench-event.json")
LUA = os.path.join(ROOT, "Benchmarks", "peers", "post.lua")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def signed_post(port, body, signed):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/message/added", body=body, headers={
            "Content-Type": "application/json", "Prompt-EventType": "message/added",
            "webhooktoken": "abcdefg", "X-Hub-Signature": signed})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError as error:
        return f"error: {error}"
    finally:
        connection.close()


def parse_wrk(output):
    def number(pattern, default=0.0):
        match = re.search(pattern, output)
        return float(match.group(1)) if match else default
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "requests": int(number(r"(\d+) requests in")),
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "non2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket": tuple(int(x) for x in socket.groups()) if socket else (0, 0, 0, 0),
        "p50": re.search(r"^\s+50%\s+(\S+)", output, re.M),
        "p99": re.search(r"^\s+99%\s+(\S+)", output, re.M),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--ack", choices=["durable", "after-handlers", "memory"], default="durable")
    parser.add_argument("--warmup", type=int, default=10, help="RSS baseline taken at this second (default 10)")
    parser.add_argument("--tolerance", type=float, default=0.10, help="allowed RSS drift from the baseline (default 0.10)")
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    arguments = parser.parse_args()
    if arguments.seconds <= arguments.warmup + 1:
        parser.error(f"--seconds must exceed the {arguments.warmup} s warm-up by at least 2")
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk")
    binary = os.path.abspath(arguments.binary)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    body = open(BODY, "rb").read()
    signed = signature(SECRET, body)
    work = tempfile.mkdtemp(prefix="prompt-listen-soak-")
    log_path = os.path.join(work, "server.log")
    secret_path = os.path.join(work, "secret")
    with open(secret_path, "w") as handle:
        handle.write(SECRET)
    command = [binary, "--port", "0", "--output", "quiet", "--dedup-window", "0", "--ack", arguments.ack,
               "--hub-secret-file", secret_path, "--header", HEADER_TOKEN]
    if arguments.ack != "memory":
        command += ["--journal", os.path.join(work, "journal")]
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=open(log_path, "wb"))
    failures = []
    try:
        port = wait_for_port(log_path, server)
        status = signed_post(port, body, signed)
        if status != 200:
            raise SystemExit(f"the first signed delivery was answered {status}")
        print(f"soak: {os.path.basename(binary)} pid {server.pid} on 127.0.0.1:{port}, --ack {arguments.ack}, "
              f"wrk -t1 -c{arguments.connections} -d{arguments.seconds}s")

        samples = []  # (seconds since wrk started, RSS KiB)
        stop = threading.Event()
        started = time.monotonic()

        def sample():
            while True:
                try:
                    samples.append((time.monotonic() - started, rss_kib(server.pid)))
                except OSError:
                    return  # the server is gone
                if stop.wait(1.0):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        wrk = subprocess.Popen(
            ["wrk", "-t1", f"-c{arguments.connections}", f"-d{arguments.seconds}s", "--latency", "-s", LUA,
             f"http://127.0.0.1:{port}/message/added"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, BENCH_BODY=BODY, BENCH_SIGNATURE=signed))
        sampler.start()
        try:
            wrk_output, _ = wrk.communicate(timeout=arguments.seconds + 30)
        except subprocess.TimeoutExpired:
            wrk.kill()
            wrk_output, _ = wrk.communicate()
            failures.append("wrk did not finish in time")
        stop.set()
        sampler.join()
        if server.poll() is not None:
            failures.append(f"the server exited during the soak (status {server.returncode})")
        result = parse_wrk(wrk_output)
        if wrk.returncode != 0 or result["requests"] == 0:
            print(wrk_output)
            failures.append(f"wrk failed (exit {wrk.returncode})")

        # After the soak: the server must still answer a signed delivery.
        after_status = signed_post(port, body, signed) if server.poll() is None else "server gone"
        after_rss = rss_kib(server.pid) if server.poll() is None else None
        try:
            values = metrics(port) if server.poll() is None else {}
        except OSError as error:
            values = {}
            failures.append(f"GET /metrics after the soak failed: {error}")

        # Criteria.
        connect, read, write, timeout = result["socket"]
        if sum(result["socket"]):
            failures.append(f"socket errors: connect {connect}, read {read}, write {write}, timeout {timeout}")
        if result["non2xx"]:
            failures.append(f"{result['non2xx']} non-2xx answers")
        logged_statuses = {}
        with open(log_path, "rb") as handle:
            for line in handle:
                match = re.search(rb" request status=(\d+)", line)
                if match:
                    logged_statuses[int(match.group(1))] = logged_statuses.get(int(match.group(1)), 0) + 1
        bad_logged = {code: count for code, count in logged_statuses.items() if not 200 <= code < 300}
        if bad_logged:
            failures.append(f"the server logged non-2xx requests: {bad_logged}")
        if after_status != 200:
            failures.append(f"the signed delivery after the soak was answered {after_status}")

        valid = [(t, kib) for t, kib in samples if kib is not None]
        baseline = next(((t, kib) for t, kib in valid if t >= arguments.warmup), None)
        if baseline is None:
            failures.append("no RSS sample at the end of the warm-up")
            later = []
        else:
            later = [(t, kib) for t, kib in valid if t > baseline[0]]
            low, high = baseline[1] * (1 - arguments.tolerance), baseline[1] * (1 + arguments.tolerance)
            outside = [(t, kib) for t, kib in later if not low <= kib <= high]
            if outside:
                t, kib = max(outside, key=lambda s: abs(s[1] - baseline[1]))
                failures.append(f"{len(outside)} of {len(later)} RSS samples after {arguments.warmup} s outside "
                                f"±{arguments.tolerance:.0%} of {baseline[1] / 1024:.1f} MiB "
                                f"(worst {kib / 1024:.1f} MiB at {t:.0f} s)")

        # Summary.
        mib = lambda kib: f"{kib / 1024:.1f} MiB"
        p50 = result["p50"].group(1) if result["p50"] else "?"
        p99 = result["p99"].group(1) if result["p99"] else "?"
        print(f"wrk: {result['requests']} requests, {result['rps']:.0f} req/s, p50 {p50}, p99 {p99}, "
              f"socket errors {sum(result['socket'])} (connect {connect}, read {read}, write {write}, timeout {timeout}), "
              f"non-2xx {result['non2xx']}")
        print(f"server log: request statuses {dict(sorted(logged_statuses.items()))}")
        if valid:
            tail = [kib for _, kib in later] or [valid[-1][1]]
            print(f"RSS: {len(valid)} samples; first {mib(valid[0][1])}, at {arguments.warmup} s "
                  f"{mib(baseline[1]) if baseline else '?'}, after it min {mib(min(tail))} max {mib(max(tail))}, "
                  f"last {mib(valid[-1][1])}; after the soak {mib(after_rss) if after_rss else '?'}")
            print("RSS series (MiB): " + " ".join(f"{kib / 1024:.1f}" for _, kib in valid))
        if values:
            batches = values.get("promptevents_journal_sync_batch_size_count", 0)
            average = values.get("promptevents_journal_sync_batch_size_sum", 0) / batches if batches else 0
            rejected = sum(v for k, v in values.items() if k.startswith("promptevents_deliveries_rejected_total"))
            print(f"metrics: authenticated {values.get('promptevents_deliveries_authenticated_total', 0):.0f}, "
                  f"rejected {rejected:.0f}, dispatched {values.get('promptevents_deliveries_dispatched_total', 0):.0f}, "
                  f"fsyncs {values.get('promptevents_journal_fsyncs_total', 0):.0f} ({average:.1f} records each), "
                  f"journal {values.get('promptevents_journal_bytes', 0) / 1048576:.1f} MiB in "
                  f"{values.get('promptevents_journal_segments', 0):.0f} segments, "
                  f"pending {values.get('promptevents_journal_pending_deliveries', 0):.0f}")
        print(f"after the soak: signed delivery answered {after_status}")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                failures.append("the server did not stop within 30 s of SIGTERM")
        print(f"server exit status after SIGTERM: {server.returncode}")
        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print("FAIL: " + failure)
    print("soak: " + ("PASS" if not failures else f"FAIL ({len(failures)} criteria)"))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
