#!/usr/bin/env python3
"""Crash consistency: nothing acknowledged is lost when prompt-listen is killed with SIGKILL.

Each round starts `prompt-listen` on 127.0.0.1 with a journal, sends signed deliveries from
several concurrent clients, kills the server with SIGKILL at a random moment, restarts it on the
same journal, and checks that every delivery that got a 2xx is in the journal and that its
handler (an --exec that writes one file per delivery) has run. Bounded: each round stops itself.

Usage: scripts/crash-test.py [--rounds N] [--binary PATH] [--seed S]
Exit status 0 when every round lost nothing; prints one line per round and a summary.
"""
import argparse, http.client, json, os, random, shutil, signal, subprocess, sys, tempfile, threading, time

from listener import DEFAULT_BINARY, signature, wait_for_port

SECRET = "crash-test-secret"


def start(binary, directory, port=0):
    log_path = os.path.join(directory, "server.log")
    log = open(log_path, "ab")
    offset = log.tell()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--journal", "journal", "--output", "quiet", "--max-attempts", "50",
         "--exec", '*=cat > "handled/$PROMPT_DELIVERY_ID.json.tmp" && test -s "handled/$PROMPT_DELIVERY_ID.json.tmp" && mv "handled/$PROMPT_DELIVERY_ID.json.tmp" "handled/$PROMPT_DELIVERY_ID.json"'],
        cwd=directory, stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL,
        env=dict(os.environ, PROMPT_LISTEN_HUB_SECRET=SECRET))
    # Only what this process logged: the log also holds the killed one's lines.
    return process, wait_for_port(log_path, process, port=port, offset=offset)


def client(port, ids, acked, stop):
    for seq in ids:
        if stop.is_set():
            return
        body = json.dumps({"orgId": 1, "seq": seq}).encode()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("POST", "/message/added", body=body, headers={
                "Content-Type": "application/json", "X-Hub-Signature": signature(SECRET, body), "Prompt-EventType": "message/added"})
            response = connection.getresponse()
            response.read()
            if 200 <= response.status < 300:
                acked.add(seq)
            connection.close()
        except OSError:
            return  # the server was killed


def round_(binary, rng, clients, per_client):
    directory = tempfile.mkdtemp(prefix="prompt-listen-crash-")
    os.makedirs(os.path.join(directory, "handled"))
    try:
        server, port = start(binary, directory)
        acked, stop = set(), threading.Event()
        threads = [threading.Thread(target=client, args=(port, range(c * per_client, (c + 1) * per_client), acked, stop))
                   for c in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.05, 1.0))
        server.send_signal(signal.SIGKILL)
        server.wait()
        stop.set()
        for thread in threads:
            thread.join()
        acknowledged = set(acked)
        # Restart on the same journal; pending deliveries must run.
        server, port = start(binary, directory)
        exported = []
        deadline = time.time() + 30
        while time.time() < deadline:
            handled = set()
            for name in os.listdir(os.path.join(directory, "handled")):
                if name.endswith(".json"):
                    with open(os.path.join(directory, "handled", name)) as handle:
                        handled.add(json.load(handle)["seq"])
            if acknowledged <= handled:
                break
            time.sleep(0.1)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        output = subprocess.run([binary, "journal", "export", "--journal", "journal"], cwd=directory,
                                capture_output=True, text=True, check=True).stdout
        journaled = {json.loads(line)["body"]["seq"] for line in output.splitlines() if line}
        lost_journal = acknowledged - journaled
        lost_handler = acknowledged - handled
        return len(acknowledged), len(journaled), lost_journal, lost_handler
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=400)
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    binary = os.path.abspath(arguments.binary)
    total_acked = total_lost = 0
    print(f"crash test: {arguments.rounds} rounds, {arguments.clients} clients, seed {arguments.seed}")
    for number in range(1, arguments.rounds + 1):
        acked, journaled, lost_journal, lost_handler = round_(binary, rng, arguments.clients, arguments.per_client)
        lost = len(lost_journal | lost_handler)
        total_acked += acked
        total_lost += lost
        print(f"round {number}: {acked} acknowledged, {journaled} journaled, "
              f"{len(lost_journal)} missing from the journal, {len(lost_handler)} not handled")
    print(f"{total_acked} acknowledged deliveries over {arguments.rounds} SIGKILLs, {total_lost} lost")
    return 0 if total_lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
