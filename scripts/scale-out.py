#!/usr/bin/env python3
"""Scale-out proof: nginx in front of two prompt-listen instances, one killed mid-run.

Starts two durable prompt-listen instances on loopback ports, each with its own journal, and
nginx (one worker) balancing between them with proxy_next_upstream on errors; sends signed,
numbered deliveries through nginx from several clients; SIGKILLs one instance mid-run; then
checks that every delivery that got a 2xx is in one of the two journals.

Usage: scripts/scale-out.py [--count N] [--binary PATH]. Not part of the default test run.
"""
import argparse, http.client, json, os, shutil, signal, subprocess, sys, tempfile, threading, time

from listener import DEFAULT_BINARY, signature, start_nginx, wait_for_port

SECRET = "scale-out-secret"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.binary)
    work = tempfile.mkdtemp(prefix="prompt-listen-scale-")
    processes = []
    try:
        ports = []
        for name in ("a", "b"):
            log = os.path.join(work, name + ".log")
            processes.append(subprocess.Popen(
                [binary, "--port", "0", "--journal", os.path.join(work, name), "--output", "quiet", "--dedup-window", "0"],
                stdout=subprocess.DEVNULL, stderr=open(log, "wb"), env=dict(os.environ, PROMPT_LISTEN_HUB_SECRET=SECRET)))
            ports.append(wait_for_port(log, processes[-1]))
        front = 18200
        processes.append(start_nginx(work, ports, front))
        acked, statuses, lock = set(), {}, threading.Lock()

        def client(sequence):
            connection = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
            for seq in sequence:
                body = json.dumps({"orgId": 1, "seq": seq}, separators=(",", ":")).encode()
                try:
                    connection.request("POST", "/message/added", body=body, headers={"X-Hub-Signature": signature(SECRET, body)})
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                except OSError:
                    connection = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
                    status = "error"
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if isinstance(status, int) and 200 <= status < 300:
                        acked.add(seq)

        per = arguments.count // arguments.clients
        threads = [threading.Thread(target=client, args=(range(i * per, (i + 1) * per),)) for i in range(arguments.clients)]
        for thread in threads:
            thread.start()
        while len(acked) < arguments.count // 3:
            time.sleep(0.01)
        processes[0].send_signal(signal.SIGKILL)  # instance a dies mid-run
        killed_at = len(acked)
        for thread in threads:
            thread.join()
        processes[1].send_signal(signal.SIGTERM)
        processes[1].wait(timeout=30)
        journaled = set()
        per_instance = {}
        for name in ("a", "b"):
            out = subprocess.run([binary, "journal", "export", "--journal", os.path.join(work, name)],
                                 capture_output=True, text=True, check=True).stdout
            seqs = {json.loads(line)["body"]["seq"] for line in out.splitlines() if line}
            per_instance[name] = len(seqs)
            journaled |= seqs
        lost = acked - journaled
        print(f"sent {per * arguments.clients} through nginx to 2 instances; instance a SIGKILLed after {killed_at} 2xx")
        print(f"answers: {statuses}")
        print(f"journaled: a {per_instance['a']}, b {per_instance['b']}; {len(acked)} acknowledged, {len(lost)} missing from both journals")
        return 0 if not lost else 1
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
