#!/usr/bin/env python3
"""Disk faults under a live prompt-listen: a full disk, and the journal directory deleted
under it, answer 503, never a 2xx that is then lost; the listener recovers when the fault clears.

Needs root (it mounts a small tmpfs): `chmod` does not stop root and `ulimit -f` raises SIGXFSZ
rather than ENOSPC, so a real size-limited mount is the honest way to fill a disk.

Usage: scripts/disk-fault-test.py [--binary PATH]; exit status 0 when nothing acknowledged was lost.
"""
import argparse, http.client, json, os, shutil, subprocess, sys, tempfile

from listener import DEFAULT_BINARY, signature, stop_process, wait_for_port

SECRET = "disk-fault-secret"


def post(port, seq):
    body = json.dumps({"orgId": 1, "seq": seq, "padding": "x" * 2000}, separators=(",", ":")).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/message/added", body=body, headers={"X-Hub-Signature": signature(SECRET, body)})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def journaled_seqs(binary, journal):
    """The `seq` of every delivery in the journal (read-only, beside a running server)."""
    output = subprocess.run([os.path.abspath(binary), "journal", "export", "--journal", journal],
                            capture_output=True, text=True, check=True).stdout
    return {json.loads(line)["body"]["seq"] for line in output.splitlines() if line}


def read_only_mount_refuses_to_start(binary):
    """A journal on a read-only mount: the listener refuses to start, saying why (it never
    answers 2xx for what it cannot store). A read-only remount under a running listener is
    refused by the kernel (EBUSY) while the journal holds files open for writing."""
    source, target = tempfile.mkdtemp(prefix="prompt-listen-ro-src-"), tempfile.mkdtemp(prefix="prompt-listen-ro-")
    subprocess.run(["mount", "--bind", source, target], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", target], check=True)
        result = subprocess.run([os.path.abspath(binary), "--port", "0", "--journal", target + "/journal",
                                 "--output", "quiet"], capture_output=True, text=True, timeout=30,
                                env=dict(os.environ, PROMPT_LISTEN_HUB_SECRET=SECRET))
        said = "Read-only file system" in result.stderr and "cannot start" in result.stderr
        print(f"read-only mount: exit status {result.returncode}, "
              f"{'says why' if said else 'UNCLEAR: ' + result.stderr.strip()[-200:]}")
        return result.returncode != 0 and said
    finally:
        subprocess.run(["umount", target], check=False)
        os.rmdir(target)
        os.rmdir(source)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        print("skipped: needs root to mount a tmpfs")
        return 0
    if not read_only_mount_refuses_to_start(arguments.binary):
        return 1
    mount = tempfile.mkdtemp(prefix="prompt-listen-disk-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount], check=True)
    server = None
    acknowledged, statuses, seq = set(), [], 0
    try:
        log = open(mount + ".log", "wb")
        server = subprocess.Popen(
            [os.path.abspath(arguments.binary), "--port", "0", "--journal", mount + "/journal", "--output", "quiet",
             "--dedup-window", "0"], stderr=log, stdout=subprocess.DEVNULL,
            env=dict(os.environ, PROMPT_LISTEN_HUB_SECRET=SECRET))
        port = wait_for_port(mount + ".log", server)

        def phase(name, count, expect):
            nonlocal seq
            seen = []
            for _ in range(count):
                seq += 1
                status = post(port, seq)
                seen.append(status)
                if 200 <= status < 300:
                    acknowledged.add(seq)
            summary = {code: seen.count(code) for code in sorted(set(seen))}
            print(f"{name}: {summary}")
            statuses.append((name, summary, expect(seen)))

        # 1. Fill the 256 KiB disk: 2xx until it is full, then 503 — never a 2xx that is not stored.
        phase("filling a 256 KiB tmpfs", 200, lambda seen: 503 in seen and all(s in (200, 503) for s in seen))
        # 2. The fault clears: the listener takes deliveries again.
        subprocess.run(["mount", "-o", "remount,size=16m", mount], check=True)
        phase("after growing it to 16 MiB", 20, lambda seen: seen[-1] == 200)
        # 3. Full again, then freed: still no 2xx that is not stored, and recovery.
        #    (A read-only remount is refused while the journal holds files open for writing.)
        subprocess.run(["mount", "-o", "remount,size=300k", mount], check=True)
        phase("full again at 300 KiB", 30, lambda seen: seen[-1] == 503 and all(s in (200, 503) for s in seen))
        subprocess.run(["mount", "-o", "remount,size=16m", mount], check=True)
        phase("freed again", 20, lambda seen: seen[-1] == 200)
        lost = acknowledged - journaled_seqs(arguments.binary, mount + "/journal")
        print(f"{len(acknowledged)} acknowledged so far, {len(lost)} lost")
        # 4. The journal directory deleted under the running server: data synced into files that
        #    have no name any more is not durable, so 503 — then recovery once it exists again.
        shutil.rmtree(mount + "/journal")
        acknowledged = set()
        phase("journal directory deleted", 10, lambda seen: all(s == 503 for s in seen))
        os.mkdir(mount + "/journal")
        phase("journal directory recreated", 10, lambda seen: seen[-1] == 200)

        stop_process(server, timeout=30)
        server = None
        journaled = journaled_seqs(arguments.binary, mount + "/journal")
        lost |= acknowledged - journaled
        print(f"{len(acknowledged)} acknowledged after the directory came back, {len(journaled)} journaled; "
              f"{len(lost)} lost in all")
        ok = not lost and all(passed for _, _, passed in statuses)
        for name, summary, passed in statuses:
            if not passed:
                print(f"unexpected answers while {name}: {summary}")
        return 0 if ok else 1
    finally:
        if server:
            server.kill()
        subprocess.run(["umount", mount], check=False)
        os.rmdir(mount)


if __name__ == "__main__":
    sys.exit(main())
