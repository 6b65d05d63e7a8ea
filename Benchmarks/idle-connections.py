#!/usr/bin/env python3
"""10,000 idle keep-alive connections: memory held, and what they cost a busy c32 load.

Starts the release prompt-listen (memory mode, the benchmark flags), measures wrk -c32
throughput, opens N keep-alive connections that each make one request and then sit idle, reads
the server's resident memory, measures wrk -c32 again, and prints both. Stops only its own PID.

Usage: Benchmarks/idle-connections.py [N] (default 10000); run Benchmarks/run.sh first (builds).
"""
import hashlib, hmac, os, resource, socket, subprocess, sys, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
binary = os.path.join(root, ".build", "release", "prompt-listen")
body_path = os.path.join(root, "Tests", "PromptEventsTests", "Fixtures", "bench-event.json")
work = os.path.join(root, "Benchmarks", ".work")
os.makedirs(work, exist_ok=True)
with open(os.path.join(work, "secret"), "w") as handle:
    handle.write("benchmark-secret")
signature = "sha1=" + hmac.new(b"benchmark-secret", open(body_path, "rb").read(), hashlib.sha1).hexdigest()
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port = 18099
server = subprocess.Popen([binary, "--port", str(port), "--header", "webhooktoken=abcdefg", "--hub-secret-file",
                           os.path.join(work, "secret"), "--output", "json", "--dedup-window", "0", "--ack", "memory",
                           "--idle-timeout", "600"], stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "idle.log"), "wb"))


def rss_mib():
    for line in open(f"/proc/{server.pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024


def wrk():
    env = dict(os.environ, BENCH_BODY=body_path, BENCH_SIGNATURE=signature)
    out = subprocess.run(["wrk", "-t1", "-c32", "-d5s", "-s", os.path.join(root, "Benchmarks", "peers", "post.lua"),
                          f"http://127.0.0.1:{port}/message/added"], capture_output=True, text=True, env=env).stdout
    return float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))


try:
    time.sleep(0.5)
    before = wrk()
    print(f"c32 alone: {before:.0f} req/s, RSS {rss_mib():.1f} MiB")
    idle = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.append(connection)
    for connection in idle:
        connection.recv(4096)
    time.sleep(1)
    print(f"{len(idle)} idle keep-alive connections open: RSS {rss_mib():.1f} MiB")
    after = wrk()
    print(f"c32 beside them: {after:.0f} req/s ({after / before * 100:.0f} % of alone), RSS {rss_mib():.1f} MiB")
    for connection in idle:
        connection.close()
finally:
    server.terminate()
    server.wait()
