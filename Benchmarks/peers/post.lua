-- wrk script: POST the signed ~1.5 KB payload. The signature is computed by run.sh.
local body_file = io.open(os.getenv("BENCH_BODY"), "rb")
wrk.method = "POST"
wrk.body = body_file:read("*a")
body_file:close()
wrk.path = "/message/added"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Prompt-EventType"] = "message/added"
wrk.headers["webhooktoken"] = "abcdefg"
wrk.headers["X-Hub-Signature"] = os.getenv("BENCH_SIGNATURE")
