#!/usr/bin/env python3
"""Proves the order "journal write, then fdatasync, then 2xx" with strace.

A process kill keeps the page cache, so a crash test cannot catch a missing fsync. This runs
prompt-listen under `strace -f -e trace=pwrite64,fdatasync,fsync,sendto`, sends N deliveries one
after another from one client (each with a unique "seq"), and checks in the trace that for every
delivery the pwrite64 carrying its body is followed by an fdatasync before the 200 answering it.

Usage: scripts/sync-order.py [--count N] [--binary PATH]; exit status 0 when every 2xx was synced.
"""
import argparse, http.client, json, os, re, shutil, signal, subprocess, sys, tempfile

from listener import DEFAULT_BINARY, signature, wait_for_port

SECRET = "sync-order-secret"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--ack", default="durable", help="after-handlers also syncs; memory must fail this check")
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    arguments = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="prompt-listen-strace-")
    trace = os.path.join(directory, "trace.txt")
    try:
        server = subprocess.Popen(
            ["strace", "-f", "-qq", "-s", "4096", "-o", trace, "-e", "trace=pwrite64,fdatasync,fsync,sendto",
             os.path.abspath(arguments.binary), "--port", "0", "--journal", "journal", "--output", "quiet",
             "--ack", arguments.ack],
            # To a file, not a pipe: a pipe nobody drains stops the server after ~500 log lines.
            cwd=directory, stderr=open(os.path.join(directory, "server.log"), "wb"), stdout=subprocess.DEVNULL,
            env=dict(os.environ, PROMPT_LISTEN_HUB_SECRET=SECRET))
        port = wait_for_port(os.path.join(directory, "server.log"), server)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for seq in range(arguments.count):
            body = json.dumps({"orgId": 1, "seq": seq}, separators=(",", ":")).encode()
            connection.request("POST", "/message/added", body=body, headers={"X-Hub-Signature": signature(SECRET, body)})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
        connection.close()
        # Stop prompt-listen itself (strace's child), by PID; strace exits with it.
        with open(f"/proc/{server.pid}/task/{server.pid}/children") as handle:
            for child in handle.read().split():
                os.kill(int(child), signal.SIGTERM)
        server.wait(timeout=30)
        events = []
        for line in open(trace):
            if "pwrite64(" in line:
                match = re.search(r'\\"seq\\":(\d+)', line) or re.search(r'"seq":(\d+)', line)
                if match:
                    events.append(("write", int(match.group(1))))
            elif "fdatasync(" in line or "fsync(" in line or "fdatasync resumed>" in line or "fsync resumed>" in line:
                # A sync interrupted by another thread's call is printed as "fdatasync(7 <unfinished
                # ...>" then "<... fdatasync resumed>) = 0": it counts where it completed.
                if re.search(r"\)\s+= 0$", line.strip()):
                    events.append(("sync", None))
            elif "sendto(" in line and "HTTP/1.1 200" in line:
                events.append(("ack", None))
        acks = [index for index, event in enumerate(events) if event[0] == "ack"]
        failures = 0
        for seq in range(arguments.count):
            writes = [index for index, event in enumerate(events) if event == ("write", seq)]
            if not writes or seq >= len(acks):
                print(f"seq {seq}: no journal write or no 200 in the trace")
                failures += 1
                continue
            synced = any(event[0] == "sync" for event in events[writes[0]:acks[seq]])
            if not synced or writes[0] > acks[seq]:
                print(f"seq {seq}: 200 sent without an fdatasync after its journal write")
                failures += 1
        syncs = sum(1 for event in events if event[0] == "sync")
        print(f"{arguments.count} deliveries, {syncs} syncs: every 200 followed its record's fdatasync"
              if failures == 0 else f"{failures} of {arguments.count} deliveries were acknowledged before a sync")
        return 0 if failures == 0 else 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
