#!/usr/bin/env python3
"""Scale-out on one shared PostgreSQL store: nginx in front of three instances, faults mid-run.

Starts a throwaway PostgreSQL 15 (scripts/postgres.sh), three durable prompt-listen instances
sharing it (--store, a short --lease), and nginx balancing between them, retrying a failed POST
on the next instance (as a load balancer does). Clients send signed, numbered deliveries and
resend each on any non-2xx answer or connection error until it is acknowledged, as a sender
with retries would. Mid-run, one instance is SIGKILLed (a third of the way) and PostgreSQL is
restarted with `pg_ctl restart -m fast` (two thirds of the way). Each instance's handler is an
--exec appending the delivery id to one file.

Then it checks, and prints the counts:
- every acknowledged delivery is stored exactly once (a resend, or the same body balanced to
  another instance, is a duplicate, not a second row);
- every stored delivery's handler ran at least once; runs beyond one are counted (deliveries in
  flight at a kill run again: at least once, not exactly once);
- the work the killed instance held was finished by the others within lease + 5 s;
- nothing is left pending.

Usage: scripts/scale-out-postgres.py [--count 20000] [--clients 16] [--lease 5] [--binary PATH]
Not part of CI (it runs a minute or more); its last figures are in Docs/Operations.md.
"""
import argparse, collections, http.client, json, os, shutil, signal, subprocess, sys, tempfile, threading, time

from listener import DEFAULT_BINARY, signature, start_nginx, stop_process, wait_for_port

SECRET = "scale-out-secret"
HERE = os.path.dirname(os.path.abspath(__file__))
POSTGRES_BIN = os.environ.get("POSTGRES_BIN", "/usr/lib/postgresql/15/bin")


def psql(url, sql):
    """Rows of `sql` as lists of strings (psql's unaligned output)."""
    out = subprocess.run([os.path.join(POSTGRES_BIN, "psql"), url, "-AtF", "\t", "-c", sql],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def as_postgres(command):
    return (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + command


def main():
    # SIGTERM (a timeout, a person) runs the clean-up below too: nothing is left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--lease", type=int, default=5)
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.binary)
    work = tempfile.mkdtemp(prefix="prompt-listen-scale-pg-")
    os.chmod(work, 0o755)
    pgdir = tempfile.mkdtemp(prefix="prompt-listen-scale-pgdata-")
    processes = []
    try:
        env_file = subprocess.run(["bash", os.path.join(HERE, "postgres.sh"), "start", pgdir],
                                  capture_output=True, text=True, check=True).stdout.strip()
        url = next(line.split("'", 2)[1] for line in open(env_file)
                   if line.startswith("export PROMPT_EVENTS_TEST_POSTGRES_URL="))
        handled_file = os.path.join(work, "handled.txt")
        # The URL without its password in the environment, the password in PGPASSWORD: nothing
        # secret in the process list.
        user_part, host_part = url.split("//", 1)[1].split("@", 1)
        user, password = user_part.split(":", 1)
        instance_env = dict(os.environ, PROMPT_LISTEN_HUB_SECRET=SECRET, PGPASSWORD=password,
                            PROMPT_LISTEN_STORE=f"postgres://{user}@{host_part}")
        store = ["--lease", str(arguments.lease), "--output", "quiet", "--max-attempts", "50",
                 "--exec", f"*=echo \"$PROMPT_DELIVERY_ID\" >> {handled_file}"]
        ports = []
        for name in ("a", "b", "c"):
            log = os.path.join(work, name + ".log")
            processes.append(subprocess.Popen([binary, "--port", "0"] + store, stdout=subprocess.DEVNULL,
                                              stderr=open(log, "wb"), env=instance_env))
            ports.append(wait_for_port(log, processes[-1]))
        front = 18210
        processes.append(start_nginx(work, ports, front))
        acked, statuses, lock = set(), collections.Counter(), threading.Lock()

        def client(sequence):
            connection = http.client.HTTPConnection("127.0.0.1", front, timeout=30)
            for seq in sequence:
                body = json.dumps({"orgId": 1, "seq": seq}, separators=(",", ":")).encode()
                for _ in range(600):  # resend until acknowledged, as a sender with retries would
                    try:
                        connection.request("POST", "/message/added", body=body,
                                           headers={"X-Hub-Signature": signature(SECRET, body)})
                        response = connection.getresponse()
                        response.read()
                        status = response.status
                    except OSError:
                        connection.close()
                        connection = http.client.HTTPConnection("127.0.0.1", front, timeout=30)
                        status = "error"
                    with lock:
                        statuses[status] += 1
                    if isinstance(status, int) and 200 <= status < 300:
                        with lock:
                            acked.add(seq)
                        break
                    time.sleep(0.05)

        per = arguments.count // arguments.clients
        threads = [threading.Thread(target=client, args=(range(i * per, (i + 1) * per),))
                   for i in range(arguments.clients)]
        started = time.time()
        for thread in threads:
            thread.start()
        while len(acked) < arguments.count // 3:
            time.sleep(0.01)
        killed = processes[0]
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        killed_at = time.time()
        held = {row[0] for row in psql(url, "SELECT id FROM prompt_events.deliveries WHERE state = 'pending' "
                                            f"AND lease_owner LIKE '%/{killed.pid}/%'")}
        while len(acked) < 2 * arguments.count // 3:
            time.sleep(0.01)
        restart = time.time()
        # Not captured: the new postmaster would hold the pipes open, and this would wait forever.
        subprocess.run(as_postgres([os.path.join(POSTGRES_BIN, "pg_ctl"), "-D", os.path.join(pgdir, "data"),
                                    "-l", os.path.join(pgdir, "log"), "-m", "fast", "-w", "restart"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=pgdir)
        restart_took = time.time() - restart
        for thread in threads:
            thread.join()
        sent_for = time.time() - started
        # The work the dead instance held: done by the others once its leases lapsed.
        taken_over_after = None
        deadline = killed_at + arguments.lease + 60
        while time.time() < deadline:
            if held:
                ids = ",".join(held)
                left = psql(url, f"SELECT count(*) FROM prompt_events.deliveries WHERE id IN ({ids}) AND state <> 'done'")
                if int(left[0][0]) == 0:
                    done_at = psql(url, "SELECT extract(epoch FROM max(finished_at)) FROM prompt_events.deliveries "
                                        f"WHERE id IN ({ids})")
                    taken_over_after = float(done_at[0][0]) - killed_at
            pending = int(psql(url, "SELECT count(*) FROM prompt_events.deliveries WHERE state <> 'done'")[0][0])
            if pending == 0 and (not held or taken_over_after is not None):
                break
            time.sleep(0.5)
        for process in processes[1:3]:
            stop_process(process)
        rows = psql(url, "SELECT id, convert_from(body, 'UTF8')::json->>'seq', state FROM prompt_events.deliveries")
        stored = collections.Counter(int(row[1]) for row in rows)
        not_done = sum(1 for row in rows if row[2] != "done")
        runs = collections.Counter(line.strip() for line in open(handled_file) if line.strip()) \
            if os.path.exists(handled_file) else collections.Counter()
        lost = acked - set(stored)
        twice_stored = [seq for seq, count in stored.items() if count > 1]
        never_ran = [row[0] for row in rows if runs[row[0]] == 0]
        ran_again = sum(1 for row in rows if runs[row[0]] > 1)
        print(f"{per * arguments.clients} deliveries from {arguments.clients} clients through nginx to 3 instances "
              f"on one PostgreSQL, in {sent_for:.1f} s; lease {arguments.lease} s")
        print(f"instance a SIGKILLed after {arguments.count // 3} acknowledgements, holding {len(held)} pending; "
              f"PostgreSQL restarted (pg_ctl restart -m fast, {restart_took:.1f} s) after {2 * arguments.count // 3}")
        print(f"answers (resends included): {dict(statuses)}")
        print(f"acknowledged {len(acked)}; stored {len(rows)} rows; lost {len(lost)}; stored twice {len(twice_stored)}")
        print(f"handler runs: {sum(runs.values())}; never ran {len(never_ran)}; ran more than once {ran_again}; "
              f"left not done {not_done}")
        if held:
            shown = f"{taken_over_after:.1f} s" if taken_over_after is not None else "never"
            print(f"the dead instance's {len(held)} pending deliveries were finished elsewhere {shown} after the kill "
                  f"(bound: lease + 5 = {arguments.lease + 5} s)")
        ok = (not lost and not twice_stored and not never_ran and not_done == 0
              and (not held or (taken_over_after is not None and taken_over_after <= arguments.lease + 5)))
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait()
        subprocess.run(["bash", os.path.join(HERE, "postgres.sh"), "stop", pgdir], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
