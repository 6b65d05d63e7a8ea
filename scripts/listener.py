"""What the scripts in this folder share: where the binary is, learning a started listener's port
from its log, signing a body, reading /metrics, and stopping a process by PID with a bound.

Each script imports it from its own folder (`from listener import ...`); Python puts a script's
folder first on `sys.path`.
"""
import hashlib, hmac, http.client, os, signal, subprocess, time

DEFAULT_BINARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "debug", "prompt-listen")
LISTENING = "listening on http://127.0.0.1:"


def signature(secret, body):
    """The `X-Hub-Signature` value Prompt.io sends for `body` (bytes): `sha1=<hex>`."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def wait_for_port(log_path, process=None, timeout=20, port=0, offset=0):
    """The port of the last `listening on http://127.0.0.1:PORT` line in `log_path` after byte
    `offset` (where a restarted process began appending), the one announcing `port` unless 0,
    waiting up to `timeout` seconds. Exits the script with the log's path if `process` ends first
    or the time runs out."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(log_path):
            with open(log_path, "rb") as handle:
                handle.seek(offset)
                for line in reversed(handle.read().decode(errors="replace").splitlines()):
                    if line.startswith(LISTENING):
                        found = int(line[len(LISTENING):].split()[0])
                        if port in (0, found):
                            return found
        if process is not None and process.poll() is not None:
            raise SystemExit(f"prompt-listen exited with status {process.returncode}; see {log_path}")
        time.sleep(0.02)
    if process is not None:
        process.kill()
    raise SystemExit(f"prompt-listen did not start within {timeout} s; see {log_path}")


def metrics(port, timeout=10):
    """`GET /metrics` as a dict from each sample's name (labels included) to its value."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                pass
    return values


def start_nginx(work, ports, front):
    """nginx (one worker, in the foreground) on 127.0.0.1:`front`, balancing over the listeners
    on `ports` and retrying a failed POST on the next one (`proxy_next_upstream ...
    non_idempotent`), as a load balancer in front of instances does. Returns the process."""
    servers = "".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=2s; " for port in ports)
    with open(os.path.join(work, "nginx.conf"), "w") as conf:
        conf.write(f"""worker_processes 1; daemon off; pid {work}/nginx.pid; error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  upstream listeners {{ {servers} keepalive 32; }}
  server {{
    listen 127.0.0.1:{front};
    location / {{
      proxy_pass http://listeners;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # A POST that failed on one instance is retried on another: at-least-once.
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
    }}
  }}
}}
""")
    process = subprocess.Popen(["nginx", "-c", os.path.join(work, "nginx.conf"), "-p", work],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return process


def stop_process(process, timeout=15):
    """SIGTERM to `process` by its PID, SIGKILL if it has not exited after `timeout` seconds;
    returns its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()
