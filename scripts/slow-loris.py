#!/usr/bin/env python3
"""Slow-loris: 500 connections trickle a request head a byte at a time while real deliveries go on.

The real deliveries must keep being answered (their p99 is reported) and every slow connection
must be cut by the head timeout (408 and close). Bounded: about 10 seconds.

Usage: scripts/slow-loris.py [--connections N] [--binary PATH]
"""
import argparse, http.client, json, os, resource, shutil, socket, subprocess, sys, tempfile, threading, time

from listener import DEFAULT_BINARY, signature, stop_process, wait_for_port

SECRET = "slow-loris-secret"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    arguments = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="prompt-listen-loris-")
    log_path = os.path.join(work, "server.log")
    server = subprocess.Popen(
        [os.path.abspath(arguments.binary), "--port", "0", "--journal", os.path.join(work, "journal"), "--output", "quiet",
         "--head-timeout", "3", "--dedup-window", "0"], stdout=subprocess.DEVNULL, stderr=open(log_path, "wb"),
        env=dict(os.environ, PROMPT_LISTEN_HUB_SECRET=SECRET))
    try:
        port = wait_for_port(log_path, server)
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(arguments.connections)]
        head = b"POST /message/added HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 4000
        stop = threading.Event()

        def trickle():
            offset = 0
            while not stop.is_set() and offset < len(head):
                for connection in slow:
                    try:
                        connection.send(head[offset:offset + 1])
                    except OSError:
                        pass
                offset += 1
                time.sleep(0.2)

        trickler = threading.Thread(target=trickle)
        trickler.start()
        latencies, failures = [], 0
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        deadline = time.time() + 6
        seq = 0
        while time.time() < deadline:
            seq += 1
            body = json.dumps({"orgId": 1, "seq": seq}, separators=(",", ":")).encode()
            started = time.perf_counter()
            try:
                connection.request("POST", "/message/added", body=body, headers={"X-Hub-Signature": signature(SECRET, body)})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures += 1
            except OSError:
                failures += 1
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            latencies.append(time.perf_counter() - started)
        stop.set()
        trickler.join()
        cut = 0
        for connection in slow:
            connection.settimeout(2)
            try:
                data = connection.recv(4096)
                if data.startswith(b"HTTP/1.1 408") or data == b"":
                    cut += 1
            except OSError:
                pass
            connection.close()
        latencies.sort()
        p50 = latencies[len(latencies) // 2] * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        print(f"{arguments.connections} slow connections: {cut} cut by the 3 s head timeout (408, closed)")
        print(f"{len(latencies)} real deliveries during the attack: {failures} failed, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        return 0 if failures == 0 and cut == arguments.connections else 1
    finally:
        stop_process(server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
