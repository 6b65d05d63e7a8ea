#!/usr/bin/env python3
"""Authentication brute force: 10,000 wrong signatures and credentials against a live listener.

Every attempt must be answered 401 with the same body, and nothing secret may appear in any
response or log line: not the secret, not the MAC that would have been right (hex or base64),
not base64(user:password), not the header token.

Usage: scripts/brute-force.py [--count N] [--binary PATH]; exit status 0 when nothing leaked.
"""
import argparse, base64, hashlib, hmac, http.client, os, random, shutil, signal, subprocess, sys, tempfile, threading

from listener import DEFAULT_BINARY, wait_for_port

SECRET, USER, PASSWORD, TOKEN = "brute-force-secret-7f3a", "prompt", "pa55-w0rd-9c1e", "token-4b2d-header"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    arguments = parser.parse_args()
    work = tempfile.mkdtemp(prefix="prompt-listen-brute-")
    log_path = os.path.join(work, "server.log")
    server = subprocess.Popen(
        [os.path.abspath(arguments.binary), "--port", "0", "--journal", os.path.join(work, "journal"), "--output", "json",
         "--log-format", "json"], stdout=open(os.path.join(work, "events.log"), "wb"), stderr=open(log_path, "wb"),
        env=dict(os.environ, PROMPT_LISTEN_HUB_SECRET=SECRET, PROMPT_LISTEN_BASIC_AUTH=f"{USER}:{PASSWORD}",
                 PROMPT_LISTEN_HEADER=f"webhooktoken={TOKEN}"))
    try:
        port = wait_for_port(log_path, server)
        right_basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        forbidden = {SECRET, PASSWORD, TOKEN, right_basic.split()[1]}
        statuses, bodies, lock = {}, set(), threading.Lock()

        def attack(worker, attempts):
            rng = random.Random(worker)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            local = set()
            for attempt in range(attempts):
                body = f'{{"orgId":{worker},"attempt":{attempt}}}'.encode()
                right = hmac.new(SECRET.encode(), body, hashlib.sha1).digest()
                local |= {right.hex(), base64.b64encode(right).decode()}
                kind = attempt % 4
                headers = {"Authorization": right_basic, "webhooktoken": TOKEN,
                           "X-Hub-Signature": "sha1=" + bytes(rng.getrandbits(8) for _ in range(20)).hex()}
                if kind == 1:  # base64 guess
                    headers["X-Hub-Signature"] = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(20))).decode()
                elif kind == 2:  # wrong password, right signature otherwise absent
                    headers["Authorization"] = "Basic " + base64.b64encode(f"{USER}:guess{attempt}".encode()).decode()
                elif kind == 3:  # wrong token
                    headers["webhooktoken"] = f"guess-{attempt}"
                connection.request("POST", "/message/added", body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read().decode(errors="replace")
                everything = answer + str(response.getheaders())
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    bodies.add(answer)
                    if any(secret in everything for secret in forbidden):
                        raise SystemExit("a response contained a secret")
            with lock:
                forbidden_macs.update(local)

        forbidden_macs = set()
        workers, per = 8, arguments.count // 8
        threads = [threading.Thread(target=attack, args=(w, per)) for w in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        server = None
        logs = open(log_path).read() + open(os.path.join(work, "events.log")).read()
        leaks = [secret for secret in forbidden | forbidden_macs if secret in logs]
        print(f"{sum(statuses.values())} attempts: {statuses}; distinct 401 bodies: {len(bodies)}")
        print(f"searched {len(logs.splitlines())} log lines for {len(forbidden) + len(forbidden_macs)} secret strings: {len(leaks)} found")
        return 0 if not leaks and set(statuses) == {401} and len(bodies) == 1 else 1
    finally:
        if server:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
