#!/usr/bin/env python3
"""Hostile HTTP: request smuggling and malformed input against a live prompt-listen.

Every case of the table opens a fresh TCP connection, sends raw bytes, reads the answer(s) and
checks the status (and, for framing errors, the reason code the body names) and whether the
server closes the connection. Expected statuses come from Docs/Server.md ("Status codes",
"Limits", "Connections") and Sources/PromptEventsServer/HTTP/RequestParser.swift. Requests
hidden inside bodies or pipelined behind a closing request target `/smuggled/<case>`: any event
of such a kind in the listener's output is a smuggled delivery, and fails its case. Positive
controls target `/hostile/<case>` and must be delivered exactly once.

While the table runs, a well-behaved client keeps posting signed deliveries over one keep-alive
connection: every one must be answered 2xx. A second listener with --max-connections 20 is then
flooded: connections beyond the limit must get 503 with Retry-After and be closed, the held ones
keep working, and once they are closed a signed delivery succeeds again.

The listener runs with --ack memory and --output json (its stdout is the list of delivered
events this script checks). Bounded: about 7 seconds, at most 60.

Usage: scripts/hostile-http.py [--binary PATH] [--verbose]; exit status 1 on any failure.
"""
import argparse, collections, http.client, json, os, shutil, socket, subprocess, sys, tempfile, threading, time

from listener import DEFAULT_BINARY, signature, stop_process, wait_for_port

SECRET = "hostile-http-secret"
MAX_BODY = 1048576  # HTTPLimits.maxBodyBytes (--max-body default)
MAX_HEAD = 16384  # HTTPLimits.maxHeadBytes
MAX_TARGET = 8192  # HTTPLimits.maxTargetBytes
MAX_HEADERS = 100  # HTTPLimits.maxHeaderCount
MAX_EXTENSIONS = 4096  # HTTPLimits.maxChunkExtensionBytes
FLOOD_LIMIT, FLOOD_EXTRA = 20, 40
TIME_BUDGET = 55.0
STARTED = time.monotonic()


# MARK: - Building requests

def signature_bytes(body):
    return signature(SECRET, body).encode()


def event_body(tag):
    return json.dumps({"orgId": 4242, "case": tag, "message": {"id": 555001, "text": "hostile"}},
                      separators=(",", ":")).encode()


def signed(path, body, extra=b"", version=b"HTTP/1.1", method=b"POST", host=b"x"):
    """A complete, correctly signed request with a Content-Length body."""
    head = method + b" " + path + b" " + version + b"\r\n"
    if host is not None:
        head += b"Host: " + host + b"\r\n"
    return head + extra + b"X-Hub-Signature: " + signature_bytes(body) + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def hidden(name):
    """A valid, signed request to /smuggled/NAME: if it is ever executed, NAME is a smuggling vector."""
    return signed(b"/smuggled/" + name.encode(), event_body("smuggled-" + name))


def chunks(body, size=16, extension=b""):
    out = b""
    for offset in range(0, len(body), size):
        piece = body[offset:offset + size]
        out += b"%x" % len(piece) + extension + b"\r\n" + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def chunked_signed(path, body, encoded, te=b"chunked", extra=b""):
    """A signed request whose body goes out as ENCODED under Transfer-Encoding: TE."""
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"X-Hub-Signature: " + signature_bytes(body)
            + b"\r\nTransfer-Encoding: " + te + b"\r\n\r\n" + encoded)


POST = b"POST /message/added HTTP/1.1\r\nHost: x\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"


# MARK: - The table

class Case:
    def __init__(self, name, raw, expect, close, reason=None, then=None, delivers=False, smuggle=False,
                 silent=False, note=""):
        self.name, self.raw, self.close, self.reason, self.then = name, raw, close, reason, then
        self.expect = expect if isinstance(expect, list) else [expect]
        self.delivers = "hostile/" + name if delivers else None  # must be delivered exactly once
        self.smuggled = "smuggled/" + name if smuggle else None  # must never be delivered
        self.silent, self.note = silent, note
        self.got, self.closed, self.failures = [], None, []


def positive(name, extra=b"", version=b"HTTP/1.1", close=False, expect=200, path=None):
    return Case(name, signed(path or b"/hostile/" + name.encode(), event_body(name), extra, version), expect, close,
                delivers=True)


def build_cases():
    cases = []

    def add(*args, **kwargs):
        cases.append(Case(*args, **kwargs))

    # Positive controls: the suite is only meaningful if well-formed requests pass.
    cases.append(positive("baseline"))
    add("crlf-before-request-line", b"\r\n\r\n" + signed(b"/hostile/crlf-before-request-line",
                                                      event_body("crlf-before-request-line")), 200, False,
        delivers=True, note="RFC 9112 §2.2: empty lines before the request line are ignored")
    add("pipelined-two-valid", signed(b"/hostile/pipelined-two-valid", event_body("p1"))
        + signed(b"/message/status", event_body("p2")), [200, 200], False, delivers=True)

    # Content-Length
    add("cl-two-different-fields", POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, True,
        "conflictingContentLength")
    add("cl-list-5-6", POST + b"Content-Length: 5, 6\r\n\r\nhello!", 400, True, "conflictingContentLength")
    body = event_body("cl-list-identical")
    add("cl-list-identical", POST.replace(b"/message/added", b"/hostile/cl-list-identical")
        + b"X-Hub-Signature: " + signature_bytes(body) + b"\r\nContent-Length: %d, %d\r\n\r\n" % (len(body), len(body))
        + body, 200, False, delivers=True, note="identical list values may be accepted (RFC 9112 §6.3)")
    add("cl-negative", POST + b"Content-Length: -1\r\n\r\n", 400, True, "invalidContentLength")
    add("cl-plus-sign", POST + b"Content-Length: +5\r\n\r\nhello", 400, True, "invalidContentLength")
    add("cl-hex", POST + b"Content-Length: 0x5\r\n\r\nhello", 400, True, "invalidContentLength")
    add("cl-empty", POST + b"Content-Length: \r\n\r\n", 400, True, "invalidContentLength")
    add("cl-inner-space", POST + b"Content-Length: 1 0\r\n\r\n0123456789", 400, True, "invalidContentLength")
    add("cl-beyond-int64", POST + b"Content-Length: 99999999999999999999999\r\n\r\n", 400, True,
        "invalidContentLength", note="too large for Int is invalid, not 413 (HTTPSyntax.addContentLength)")
    add("cl-nul-in-value", POST + b"Content-Length: 5\x00\r\n\r\nhello", 400, True, "invalidHeaderValue")
    add("cl-and-te", POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, True,
        "contentLengthWithTransferEncoding")
    add("te-and-cl", POST + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400, True,
        "contentLengthWithTransferEncoding")

    # Transfer-Encoding variants and obfuscations
    add("te-chunked-identity", POST + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400, True,
        "invalidTransferEncoding")
    add("te-identity-chunked", POST + b"Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", 501, True,
        "unsupportedTransferCoding")
    add("te-gzip-chunked", POST + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, True,
        "unsupportedTransferCoding")
    add("te-gzip-then-chunked-fields", POST + b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        501, True, "unsupportedTransferCoding")
    add("te-chunked-not-last", POST + b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400, True,
        "invalidTransferEncoding")
    add("te-xchunked", POST + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400, True, "invalidTransferEncoding")
    add("te-identity-only", POST + b"Transfer-Encoding: identity\r\n\r\n", 400, True, "invalidTransferEncoding")
    add("te-empty-value", POST + b"Transfer-Encoding: \r\n\r\n", 400, True, "invalidTransferEncoding")
    add("te-chunked-with-parameter", POST + b"Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", 400, True,
        "invalidTransferEncoding")
    add("te-quoted-chunked", POST + b"Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400, True,
        "invalidTransferEncoding")
    add("te-duplicated-fields", POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400, True, "invalidTransferEncoding")
    add("te-chunked-twice-in-list", POST + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400, True,
        "invalidTransferEncoding")
    add("te-vertical-tab", POST + b"Transfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n", 400, True, "invalidHeaderValue")
    add("te-http10", b"POST /message/added HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, True,
        "transferEncodingInHTTP10")
    add("te-space-before-colon", POST + b"Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello", 400, True,
        "whitespaceBeforeColon")
    add("te-folded", POST + b"Transfer-Encoding: identity\r\n chunked\r\n\r\n0\r\n\r\n", 400, True,
        "obsoleteLineFolding")
    add("te-leading-space-on-line", b"POST /message/added HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: x\r\n\r\n",
        400, True, "obsoleteLineFolding")
    add("te-name-with-ctl", POST + b"Transfer-Encoding\x0b: chunked\r\n\r\n0\r\n\r\n", 400, True,
        "invalidHeaderName")
    body = event_body("te-leading-space-in-value")
    add("te-leading-space-in-value", chunked_signed(b"/hostile/te-leading-space-in-value", body, chunks(body),
                                                    te=b"   chunked"), 200, False, delivers=True,
        note="OWS around a field value is not part of it")
    body = event_body("te-leading-tab-in-value")
    add("te-leading-tab-in-value", chunked_signed(b"/hostile/te-leading-tab-in-value", body, chunks(body),
                                                  te=b"\tchunked\t"), 200, False, delivers=True)
    body = event_body("te-capitalised")
    add("te-capitalised", chunked_signed(b"/hostile/te-capitalised", body, chunks(body), te=b"Chunked"), 200, False,
        delivers=True, note="transfer codings are case-insensitive")

    # Chunk sizes
    add("chunk-size-negative", CHUNKED + b"-5\r\nhello\r\n0\r\n\r\n", 400, True, "invalidChunkSize")
    add("chunk-size-17-digits", CHUNKED + b"10000000000000000\r\nhello\r\n0\r\n\r\n", 400, True, "invalidChunkSize",
        note="1 to 16 hex digits")
    add("chunk-size-u64-max", CHUNKED + b"FFFFFFFFFFFFFFFF\r\nhello\r\n", 413, True, "bodyTooLarge",
        note="checked before any chunk data is read")
    add("chunk-size-non-hex", CHUNKED + b"zz\r\nhello\r\n0\r\n\r\n", 400, True, "invalidChunkSize")
    add("chunk-size-0x-prefix", CHUNKED + b"0x5\r\nhello\r\n0\r\n\r\n", 400, True, "invalidChunkSize")
    add("chunk-size-leading-space", CHUNKED + b" 5\r\nhello\r\n0\r\n\r\n", 400, True, "invalidChunkSize")
    add("chunk-size-trailing-space", CHUNKED + b"5 \r\nhello\r\n0\r\n\r\n", 400, True, "invalidChunkExtension")
    add("chunk-size-inner-space", CHUNKED + b"5 5\r\nhello\r\n0\r\n\r\n", 400, True, "invalidChunkExtension")
    add("chunk-size-nul", CHUNKED + b"5\x00\r\nhello\r\n0\r\n\r\n", 400, True, "invalidChunkSize")
    add("chunk-size-bare-lf", CHUNKED + b"5\nhello\r\n0\r\n\r\n", 400, True, "bareLineFeed")
    add("chunk-data-missing-crlf", CHUNKED + b"5\r\nhello0\r\n\r\n", 400, True, "invalidChunkData")
    add("chunk-data-longer-than-size", CHUNKED + b"3\r\nhello\r\n0\r\n\r\n", 400, True, "invalidChunkData")
    add("chunk-total-over-max-body", CHUNKED + b"%x\r\n" % (MAX_BODY + 1), 413, True, "bodyTooLarge")

    # Chunk extensions
    body = event_body("chunk-extension-allowed")
    add("chunk-extension-allowed", chunked_signed(b"/hostile/chunk-extension-allowed", body,
                                                  chunks(body, extension=b" ; name=value;q=\"a b\"")), 200, False,
        delivers=True)
    body = event_body("chunk-extension-at-limit")
    encoded = b"%x;" % len(body) + b"a" * (MAX_EXTENSIONS - 1) + b"\r\n" + body + b"\r\n0\r\n\r\n"
    add("chunk-extension-at-limit", chunked_signed(b"/hostile/chunk-extension-at-limit", body, encoded), 200, False,
        delivers=True, note="4096 extension bytes: limits are inclusive")
    add("chunk-extension-over-limit", CHUNKED + b"5;" + b"a" * MAX_EXTENSIONS + b"\r\nhello\r\n0\r\n\r\n", 413, True,
        "chunkExtensionsTooLarge")
    add("chunk-extension-over-limit-spread", CHUNKED + (b"1;" + b"a" * 99 + b"\r\nx\r\n") * 41 + b"0\r\n\r\n", 413,
        True, "chunkExtensionsTooLarge", note="100 bytes per chunk, 41 chunks: the limit is per body")
    add("chunk-extension-empty-name", CHUNKED + b"5;=x\r\nhello\r\n0\r\n\r\n", 400, True, "invalidChunkExtension")
    add("chunk-trailer-flood", CHUNKED + b"5\r\nhello\r\n0\r\n" + b"X-T: 1\r\n" * (MAX_HEADERS + 1) + b"\r\n", 431,
        True, "tooManyHeaders")

    # NUL and control bytes
    add("nul-in-header-name", POST + b"X-Te\x00st: a\r\nContent-Length: 0\r\n\r\n", 400, True, "invalidHeaderName")
    add("nul-in-header-value", POST + b"X-Test: a\x00b\r\nContent-Length: 0\r\n\r\n", 400, True, "invalidHeaderValue")
    add("ctl-in-header-value", POST + b"X-Test: a\x01b\r\nContent-Length: 0\r\n\r\n", 400, True, "invalidHeaderValue")
    add("del-in-header-value", POST + b"X-Test: a\x7fb\r\nContent-Length: 0\r\n\r\n", 400, True, "invalidHeaderValue")
    cases.append(positive("non-utf8-header-value", extra=b"X-Test: caf\xe9 \xff\xfe\r\n"))
    cases[-1].note = "obs-text is opaque data (RFC 9110 §5.5): delivered, read as ISO-8859-1"
    # Kinds that could walk an --exec script out of its directory: 400 before authentication.
    for name, path in [("dot-dot-path", b"/../../etc/passwd"), ("encoded-dot-dot-path", b"/a/%2E%2e/b"),
                       ("encoded-slash-path", b"/message%2Fadded"), ("encoded-nul-path", b"/a%00b"),
                       ("backslash-path", b"/a\\b")]:
        add(name, signed(path, event_body(name)), 400, True, note="unsafe_path: nothing stored or run")
    add("nul-in-target", b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidTarget")
    add("tab-in-target", b"GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidTarget")
    add("fragment-in-target", b"GET /#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidTarget")
    add("nul-in-method", b"GE\x00T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidMethod")
    add("utf8-header-value", b"GET / HTTP/1.1\r\nHost: x\r\nX-Name: Ana Mar\xc3\xada\r\n\r\n", 200, False,
        note="UTF-8 obs-text is accepted")

    # Line endings, folding, whitespace
    add("bare-lf-everywhere", b"GET / HTTP/1.1\nHost: x\n\n", 400, True, "bareLineFeed")
    add("bare-lf-in-header", b"GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400, True, "bareLineFeed")
    add("bare-lf-ending-head", b"GET / HTTP/1.1\r\nHost: x\r\n\n", 400, True, "bareLineFeed")
    add("bare-lf-before-request-line", b"\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "bareLineFeed")
    add("bare-cr-ending-request-line", b"GET / HTTP/1.1\rHost: x\r\n\r\n", 400, True, "invalidVersion")
    add("bare-cr-in-header", b"GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n", 400, True, "invalidHeaderValue")
    add("bare-cr-before-request-line", b"\rGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidRequestLine")
    add("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400, True, "obsoleteLineFolding")
    add("space-before-colon", POST + b"Content-Length : 0\r\n\r\n", 400, True, "whitespaceBeforeColon")
    add("tab-before-colon", POST + b"Content-Length\t: 0\r\n\r\n", 400, True, "whitespaceBeforeColon")
    add("empty-header-name", b"GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400, True, "emptyHeaderName")
    add("header-without-colon", b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400, True, "invalidHeaderName")
    add("double-space-request-line", b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidRequestLine")
    add("trailing-space-request-line", b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400, True, "invalidVersion")
    add("leading-space-request-line", b" GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidMethod")

    # Sizes
    add("target-at-limit", b"GET /" + b"a" * (MAX_TARGET - 1) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 405, True,
        note="8192-byte target is accepted; GET on an event route is 405 (head rejection closes)")
    add("target-over-limit", b"GET /" + b"a" * MAX_TARGET + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, True,
        "targetTooLong")
    add("method-over-head-limit", b"A" * (MAX_HEAD + 100) + b" / HTTP/1.1\r\nHost: x\r\n\r\n", 431, True,
        "headTooLarge")
    prefix = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: "
    pad = MAX_HEAD - len(prefix) - 4
    add("head-at-limit", prefix + b"p" * pad + b"\r\n\r\n", 200, False, note="exactly 16384 head bytes")
    add("head-over-limit", prefix + b"p" * (pad + 1) + b"\r\n\r\n", 431, True, "headTooLarge")
    add("header-value-17k", prefix + b"p" * 17000 + b"\r\n\r\n", 431, True, "headTooLarge")
    add("headers-at-limit", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-F: 1\r\n" * (MAX_HEADERS - 1) + b"\r\n", 200, False,
        note="100 fields, Host included")
    add("header-flood", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-F: 1\r\n" * MAX_HEADERS + b"\r\n", 431, True,
        "tooManyHeaders")
    add("body-cl-over-max-head-only", POST + b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1), 413, True,
        "bodyTooLarge", note="answered from the head alone: no body byte is ever sent")
    add("body-cl-huge-head-only", POST + b"Content-Length: 1000000000000000\r\n\r\n", 413, True, "bodyTooLarge",
        note="answered from the head alone: no body byte is ever sent")
    add("body-cl-at-max-head-only", POST + b"Content-Length: %d\r\n\r\n" % MAX_BODY, None, False, silent=True,
        note="at the limit the server must wait for the body: no answer")

    # Methods and routes
    add("method-lowercase-get", b"get / HTTP/1.1\r\nHost: x\r\n\r\n", 404, True,
        note="methods are case-sensitive: 'get /' is not the page but an event for / without a kind (missing_kind)")
    add("method-lowercase-post", b"post /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 405, True)
    add("method-invalid-char", b"GE(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidMethod")
    add("get-event-route-with-body", b"GET /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 405,
        True, note="rejected from the head: answered without reading the body, then closed")
    add("post-without-length", POST + b"\r\n", 411, True, "lengthRequired")
    add("post-base-path-without-kind", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 404, True)
    add("post-healthz", b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 405, False,
        note="reserved routes are answered after their body; keep-alive kept")
    body = event_body("bad-signature")
    add("bad-signature", POST + b"X-Hub-Signature: sha1=" + b"0" * 40 + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body, 401, False, note="checked after the body: keep-alive kept")

    # Versions
    add("version-http2", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, True, "versionNotSupported")
    add("version-http12", b"GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505, True, "versionNotSupported")
    add("version-http09", b"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505, True, "versionNotSupported")
    add("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, True, "versionNotSupported")
    add("http09-simple-request", b"GET /\r\n", 400, True, "invalidRequestLine")
    add("version-lowercase", b"GET / http/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidVersion")
    add("version-two-digit-minor", b"GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400, True, "invalidVersion")
    add("http10-without-host", b"GET / HTTP/1.0\r\n\r\n", 200, True, note="HTTP/1.0 closes unless keep-alive")
    add("http10-keep-alive", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, False)

    # Target forms and Host
    cases.append(positive("absolute-form", path=b"http://x/hostile/absolute-form"))
    add("absolute-form-other-scheme", b"GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidTarget")
    add("absolute-form-empty-authority", b"GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidTarget")
    add("asterisk-form-options", b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 405, True,
        note="accepted by the parser; '*' then routes as an event kind, so 405 Allow: POST")
    add("asterisk-form-get", b"GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, True, "invalidTarget")
    add("connect-authority-form", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 400, True,
        "invalidTarget")
    add("missing-host", b"GET / HTTP/1.1\r\n\r\n", 400, True, "missingHost")
    add("two-hosts", b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, True, "multipleHost")
    add("invalid-host", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, True, "invalidHost")

    # Expect
    body = event_body("expect-continue")
    full = signed(b"/hostile/expect-continue", body, b"Expect: 100-continue\r\n")
    add("expect-continue", full[:-len(body)], [100, 200], False, then=body, delivers=True,
        note="100 Continue after the head, 200 after the body")
    add("expect-continue-rejected-route", b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: 2\r\n\r\n", 404, True, then=b"{}", note="final answer instead of 100, then close")
    add("expect-continue-over-max-body", POST + b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1),
        413, True, "bodyTooLarge")
    add("expect-unknown", POST + b"Expect: 200-ok\r\nContent-Length: 2\r\n\r\n{}", 417, True, "unsupportedExpectation")
    cases.append(positive("expect-unknown-http10", b"Expect: 200-ok\r\n", b"HTTP/1.0", close=True))

    # Smuggling: a second request hidden behind or inside the first one must never run.
    def smuggle(name, raw, expect, close, reason=None, note=""):
        cases.append(Case(name, raw, expect, close, reason, smuggle=True, note=note))

    inner = hidden("cl-te")
    smuggle("cl-te", POST + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % (len(inner) + 5)
            + inner, 400, True, "contentLengthWithTransferEncoding")
    inner = hidden("te-cl")
    smuggle("te-cl", POST + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n%x\r\n" % len(inner) + inner
            + b"\r\n0\r\n\r\n", 400, True, "contentLengthWithTransferEncoding")
    smuggle("te-te-obfuscated", POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n"
            + hidden("te-te-obfuscated"), 400, True, "invalidTransferEncoding")
    smuggle("cl-cl-0-then-n", POST + b"Content-Length: 0\r\nContent-Length: %d\r\n\r\n" % len(hidden("cl-cl-0-then-n"))
            + hidden("cl-cl-0-then-n"), 400, True, "conflictingContentLength")
    inner = hidden("inside-signed-body")
    smuggle("inside-signed-body", POST + b"X-Hub-Signature: " + signature_bytes(inner) + b"\r\nContent-Length: %d\r\n\r\n"
            % len(inner) + inner, 400, False,
            note="the body is a signed request: authenticated, not JSON (malformed_body), kept open")
    inner = hidden("inside-get-body")
    smuggle("inside-get-body", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(inner) + inner, 200,
            False, note="GET / reads and drops its body; exactly one answer")
    inner = hidden("behind-head-rejection")
    smuggle("behind-head-rejection", b"GET /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
            % len(inner) + inner, 405, True, note="body never read: the server must close, not parse it")
    smuggle("behind-framing-error", POST + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n"
            + hidden("behind-framing-error"), 400, True, "conflictingContentLength")
    smuggle("behind-bad-chunk", CHUNKED + b"zz\r\n" + hidden("behind-bad-chunk"), 400, True, "invalidChunkSize")
    smuggle("behind-expect-rejection", b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n"
            b"\r\n" % len(hidden("behind-expect-rejection")), 404, True)
    cases[-1].then = hidden("behind-expect-rejection")
    smuggle("behind-connection-close", signed(b"/message/added", event_body("behind-connection-close"),
                                              b"Connection: close\r\n") + hidden("behind-connection-close"), 200, True,
            note="RFC 9112 §9.6: after 'close' the server MUST NOT process further requests")
    smuggle("behind-http10-request", signed(b"/message/added", event_body("behind-http10-request"),
                                            version=b"HTTP/1.0") + hidden("behind-http10-request"), 200, True,
            note="HTTP/1.0 without keep-alive: the connection ends after the first answer")
    smuggle("behind-page-connection-close", b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            + hidden("behind-page-connection-close"), 200, True)
    return cases


# MARK: - Talking to the server

class Peer:
    """A raw socket with a receive buffer that splits HTTP/1.1 responses."""

    def __init__(self, port, timeout=3.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer, self.ended = b"", None  # None, "eof" or "reset"

    def send(self, data):
        try:
            self.sock.sendall(data)
            return None
        except (BrokenPipeError, ConnectionResetError) as error:
            return type(error).__name__

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return "timeout"
        except ConnectionResetError:
            self.ended = "reset"
            return "reset"
        if not data:
            self.ended = "eof"
            return "eof"
        self.buffer += data
        return None

    def response(self, timeout=2.0):
        """The next response as (status, headers, body), or a string saying why there is none."""
        deadline = time.monotonic() + timeout
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                lines = self.buffer[:end].split(b"\r\n")
                parts = lines[0].split(b" ", 2)
                if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
                    return "garbage: %r" % self.buffer[:80]
                status = int(parts[1])
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower().decode()] = value.strip().decode(errors="replace")
                length = 0 if 100 <= status < 200 else int(headers.get("content-length", "0"))
                if len(self.buffer) >= end + 4 + length:
                    body = self.buffer[end + 4:end + 4 + length]
                    self.buffer = self.buffer[end + 4 + length:]
                    return status, headers, body
            if self.ended:
                return self.ended
            why = self._fill(deadline)
            if why:
                return why

    def after(self, timeout):
        """What follows: "data", "eof", "reset" or "timeout" (still open and silent)."""
        if self.buffer:
            return "data"
        if self.ended:
            return self.ended
        return self._fill(time.monotonic() + timeout) or "data"

    def close(self):
        self.sock.close()


def run_case(port, case):
    peer = Peer(port)
    try:
        problem = peer.send(case.raw)
        if case.silent:
            outcome = peer.after(0.8)
            case.closed = outcome in ("eof", "reset")
            if outcome != "timeout":
                case.failures.append(f"expected no answer while the body is awaited, got {outcome}: {peer.buffer[:80]!r}")
            return
        for index, expected in enumerate(case.expect):
            answer = peer.response()
            if isinstance(answer, str):
                case.failures.append(f"answer {index + 1}: none ({answer}{', send: ' + problem if problem else ''})")
                break
            status, headers, body = answer
            case.got.append(status)
            if status != expected:
                case.failures.append(f"answer {index + 1}: status {status}, expected {expected}: {body[:100]!r}")
                break
            if case.reason and index == len(case.expect) - 1 and not body.startswith(f"{status} {case.reason}:".encode()):
                case.failures.append(f"body {body[:90]!r} does not name reason {case.reason}")
            final = index == len(case.expect) - 1
            if final and case.close and status >= 400 and headers.get("connection", "").lower() != "close":
                case.failures.append("closing error answer without 'Connection: close'")
            if index == 0 and case.then is not None:
                problem = peer.send(case.then)
        if case.failures:
            return
        outcome = peer.after(2.0 if case.close else 0.3)
        case.closed = outcome in ("eof", "reset")
        if outcome == "data":
            extra = peer.buffer or b""
            case.failures.append(f"unexpected bytes after the expected answer(s): {extra[:100]!r}")
        elif case.close and outcome == "timeout":
            case.failures.append("connection still open 2 s after the answer; expected close")
        elif not case.close and case.closed:
            case.failures.append(f"connection closed ({outcome}); expected it to stay open")
    finally:
        peer.close()


class GoodClient(threading.Thread):
    """Signed deliveries over one keep-alive connection until stopped; every answer must be 2xx."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop = port, threading.Event()
        self.sent = self.ok = self.reconnects = 0
        self.errors, self.statuses = [], collections.Counter()

    def run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        seq = 0
        while not self.stop.is_set():
            seq += 1
            body = json.dumps({"orgId": 12345, "message": {"id": seq, "text": "good client"}},
                              separators=(",", ":")).encode()
            try:
                connection.request("POST", "/message/added", body=body, headers={
                    "X-Hub-Signature": signature_bytes(body).decode(), "Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                self.sent += 1
                self.statuses[response.status] += 1
                if 200 <= response.status < 300:
                    self.ok += 1
                if response.will_close:
                    self.errors.append(f"request {seq}: server closed the keep-alive connection")
                    connection.close()
                    self.reconnects += 1
            except (OSError, http.client.HTTPException) as error:
                self.sent += 1
                self.errors.append(f"request {seq}: {type(error).__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                self.reconnects += 1
            time.sleep(0.002)  # two cores: leave room for the suite
        connection.close()


def start_server(binary, work, name, *extra, output="json"):
    log_path = os.path.join(work, name + ".log")
    events_path = os.path.join(work, name + ".events")
    server = subprocess.Popen(
        [os.path.abspath(binary), "serve", "--port", "0", "--ack", "memory", "--output", output,
         "--hub-secret", SECRET, *extra],
        stdout=open(events_path, "wb"), stderr=open(log_path, "wb"))
    return server, wait_for_port(log_path, server), events_path, log_path


def stop_server(server):
    """SIGTERM by PID (drains, exit 0), SIGKILL by PID after 10 s."""
    return stop_process(server, timeout=10)


# MARK: - Connection flood

def flood(binary, work):
    result = {"failures": []}
    fail = result["failures"].append
    server, port, _, _ = start_server(binary, work, "flood", "--max-connections", str(FLOOD_LIMIT), output="quiet")
    held, extra = [], []
    try:
        healthz = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        for index in range(FLOOD_LIMIT):
            peer = Peer(port)
            peer.send(healthz)
            answer = peer.response(3)
            if isinstance(answer, str) or answer[0] != 200:
                fail(f"held connection {index + 1} of {FLOOD_LIMIT}: {answer if isinstance(answer, str) else answer[0]}")
            held.append(peer)
        refused = retry_after = closed = 0
        statuses = collections.Counter()
        for index in range(FLOOD_EXTRA):
            peer = Peer(port)
            extra.append(peer)
            answer = peer.response(3)
            if isinstance(answer, str):
                statuses[answer] += 1
                continue
            status, headers, body = answer
            statuses[status] += 1
            if status == 503:
                refused += 1
                if headers.get("retry-after") == "1" and body == b"Too many connections\n":
                    retry_after += 1
            if peer.after(2) in ("eof", "reset"):
                closed += 1
        result.update(extra=FLOOD_EXTRA, refused=refused, retry_after=retry_after, closed=closed,
                      statuses=dict(statuses))
        if refused != FLOOD_EXTRA:
            fail(f"{FLOOD_EXTRA} connections over the limit: {dict(statuses)}, expected all 503")
        if retry_after != refused:
            fail(f"{refused - retry_after} of the 503s lacked 'Retry-After: 1' or the body 'Too many connections'")
        if closed != FLOOD_EXTRA:
            fail(f"{FLOOD_EXTRA - closed} over-limit connections were not closed after the 503")
        if server.poll() is not None:
            fail(f"flood server exited with {server.returncode}")
            return result
        alive = 0
        for peer in held:
            peer.send(healthz)
            answer = peer.response(3)
            alive += not isinstance(answer, str) and answer[0] == 200
        result["held_still_served"] = alive
        if alive != FLOOD_LIMIT:
            fail(f"only {alive} of {FLOOD_LIMIT} held connections still answered after the flood")
        held[0].send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = held[0].response(3)
        if not isinstance(answer, str):
            for line in answer[2].decode().splitlines():
                if line.startswith('promptevents_deliveries_rejected_total{reason="over_capacity"}'):
                    result["metric_over_capacity"] = int(float(line.split()[-1]))
        for peer in held + extra:
            peer.close()
        held, extra = [], []
        # Recovery: the closes are noticed by the loop asynchronously; allow it two seconds.
        started, attempts, recovered = time.monotonic(), 0, None
        body = event_body("after-flood")
        while time.monotonic() - started < 2 and recovered is None:
            attempts += 1
            peer = Peer(port)
            peer.send(signed(b"/message/added", body, b"Connection: close\r\n"))
            answer = peer.response(3)
            peer.close()
            if not isinstance(answer, str) and answer[0] == 200:
                recovered = time.monotonic() - started
            else:
                time.sleep(0.05)
        result.update(recovery_attempts=attempts, recovered_after=recovered)
        if recovered is None:
            fail(f"no signed delivery succeeded within 2 s after the flood ({attempts} attempts)")
        # The connection count came back down: the full limit can be held again, and one more is refused.
        refill = []
        for _ in range(FLOOD_LIMIT):
            peer = Peer(port)
            peer.send(healthz)
            answer = peer.response(3)
            refill.append(peer)
            if isinstance(answer, str) or answer[0] != 200:
                fail(f"after recovery, connection {len(refill)} of {FLOOD_LIMIT} got {answer if isinstance(answer, str) else answer[0]}")
                break
        peer = Peer(port)
        answer = peer.response(3)
        result["over_limit_after_refill"] = answer if isinstance(answer, str) else answer[0]
        if result["over_limit_after_refill"] != 503:
            fail(f"connection {FLOOD_LIMIT + 1} after refilling got {result['over_limit_after_refill']}, expected 503")
        peer.close()
        for peer in refill:
            peer.close()
        if server.poll() is not None:
            fail(f"flood server exited with {server.returncode}")
    finally:
        for peer in held + extra:
            peer.close()
        code = stop_server(server)
        result["exit"] = code
        if code != 0:
            fail(f"flood server exited with {code} on SIGTERM")
    return result


# MARK: - Main

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    parser.add_argument("--verbose", action="store_true", help="print every case, not only the failures")
    arguments = parser.parse_args()
    work = tempfile.mkdtemp(prefix="prompt-listen-hostile-")
    server, keep = None, False
    try:
        server, port, events_path, log_path = start_server(arguments.binary, work, "main")
        cases = build_cases()
        names = collections.Counter(case.name for case in cases)
        assert all(count == 1 for count in names.values()), "duplicate case names"
        client = GoodClient(port)
        client.start()
        time.sleep(0.2)
        for case in cases:
            if time.monotonic() - STARTED > TIME_BUDGET - 15:
                case.failures.append("not run: time budget exhausted")
                continue
            try:
                run_case(port, case)
            except OSError as error:
                case.failures.append(f"{type(error).__name__}: {error}")
            if server.poll() is not None:
                case.failures.append(f"server exited with {server.returncode} during this case")
                break
        main_alive = server.poll() is None
        flood_result = flood(arguments.binary, work)
        client.stop.set()
        client.join(timeout=10)
        main_exit = stop_server(server)
        server = None

        # Deliveries: positive cases exactly once, smuggled requests never, the good client's all.
        kinds = collections.Counter()
        for line in open(events_path, "rb"):
            try:
                kinds[json.loads(line)["kind"]] += 1
            except (ValueError, KeyError):
                pass
        for case in cases:
            if case.delivers and kinds[case.delivers] != 1:
                case.failures.append(f"kind {case.delivers} delivered {kinds[case.delivers]} times, expected once")
            if case.smuggled and kinds[case.smuggled]:
                case.failures.append(f"SMUGGLED: the hidden request to /{case.smuggled} was delivered "
                                     f"{kinds[case.smuggled]} time(s) as a separate event")
        # message/added: the good client's 2xx, plus the front request of the two smuggling cases whose
        # first request is a real delivery (answered 200).
        front_requests = sum(1 for case in cases if case.name in ("behind-connection-close", "behind-http10-request")
                             and case.got[:1] == [200])
        message_count = kinds["message/added"]

        # Summary
        passed = [case for case in cases if not case.failures]
        failed = [case for case in cases if case.failures]
        print("# hostile-http\n")
        print(f"binary: {os.path.abspath(arguments.binary)}\n")
        print(f"## Malformed and smuggling cases: {len(cases)} cases, {len(passed)} passed, {len(failed)} failed\n")
        print("| case | expected | got | close expected | closed | result |")
        print("|---|---|---|---|---|---|")
        for case in cases:
            if case.failures or arguments.verbose:
                expected = "no answer" if case.silent else "+".join(map(str, case.expect))
                got = "-" if case.silent and not case.got else "+".join(map(str, case.got)) or "none"
                print(f"| {case.name} | {expected} | {got} | {'yes' if case.close else 'no'} | "
                      f"{'-' if case.closed is None else 'yes' if case.closed else 'no'} | "
                      f"{'FAIL' if case.failures else 'ok'} |")
        if not arguments.verbose:
            print(f"| … {len(passed)} passing cases omitted (--verbose lists them) | | | | | |")
        if failed:
            print("\n### Failures\n")
            for case in failed:
                print(f"- **{case.name}**: " + "; ".join(case.failures))
                print(f"  - bytes sent: `{case.raw[:240]!r}`" + (" …" if len(case.raw) > 240 else ""))
                if case.then is not None:
                    print(f"  - then: `{case.then[:160]!r}`")
                if case.note:
                    print(f"  - rule: {case.note}")
        smuggled = sum(1 for case in cases if case.smuggled and kinds[case.smuggled])
        print(f"\nsmuggled deliveries: {smuggled} of {sum(1 for case in cases if case.smuggled)} hidden requests executed")

        print("\n## Well-behaved client (keep-alive, signed, /message/added)\n")
        print(f"- sent {client.sent}, 2xx {client.ok}, statuses {dict(client.statuses)}, "
              f"connection errors or closes {len(client.errors)}")
        for error in client.errors[:5]:
            print(f"  - {error}")
        client_failed = client.sent == 0 or client.ok != client.sent or client.errors
        # Every 2xx of the good client is a message/added event; so are the front requests of two smuggling cases.
        delivered_ok = message_count == client.ok + front_requests
        print(f"- message/added events delivered: {message_count} (good client {client.ok} + {front_requests} "
              f"front requests of the smuggling cases){'' if delivered_ok else ' — MISMATCH'}")

        print(f"\n## Connection flood (--max-connections {FLOOD_LIMIT})\n")
        print(f"- held {FLOOD_LIMIT}, opened {FLOOD_EXTRA} more: {flood_result.get('refused', 0)} got 503 "
              f"({flood_result.get('retry_after', 0)} with Retry-After: 1 and 'Too many connections'), "
              f"{flood_result.get('closed', 0)} closed after it; answers {flood_result.get('statuses')}")
        print(f"- held connections still served after the flood: {flood_result.get('held_still_served')} of {FLOOD_LIMIT}")
        print(f"- over_capacity metric: {flood_result.get('metric_over_capacity')}")
        recovered = flood_result.get("recovered_after")
        print(f"- recovery: signed delivery 200 after {recovered * 1000:.0f} ms ({flood_result.get('recovery_attempts')} "
              f"attempts)" if recovered is not None else "- recovery: FAILED")
        print(f"- refilled to the limit, connection {FLOOD_LIMIT + 1} got {flood_result.get('over_limit_after_refill')}")
        print(f"- flood server exit status on SIGTERM: {flood_result.get('exit')}")
        for failure in flood_result["failures"]:
            print(f"  - FAIL: {failure}")

        print(f"\nmain server alive after the cases: {main_alive}; exit status on SIGTERM: {main_exit}")
        elapsed = time.monotonic() - STARTED
        print(f"total time: {elapsed:.1f} s")
        ok = (not failed and not client_failed and delivered_ok and not flood_result["failures"] and main_alive
              and main_exit == 0 and elapsed < 60)
        print(f"\nRESULT: {'PASS' if ok else 'FAIL'}")
        if not ok:
            keep = True
            print(f"(server logs and events kept in {work})")
        return 0 if ok else 1
    finally:
        if server is not None:
            stop_server(server)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
