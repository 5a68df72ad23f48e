#!/usr/bin/env python3
"""fake_s3.py - an in-memory S3 endpoint that fails on purpose, for tests.

    fake_s3.py serve PORTFILE [--fail-first N | --drop-first N | --status S]
                     [--max-keys K]
    fake_s3.py control URL MODE [N]   MODE: none, fail-first, drop-first,
                                      status; also zeroes the counts
    fake_s3.py check URL KIND COUNT   KIND: GET, HEAD, PUT, DELETE, LIST

Why: a real server never fails when a test wants it to, so the s3://
store's retries (a 5xx, a dropped connection: tried again, S3_TRIES
times in all; a 4xx never) can only be proven against one that does.

"serve" listens on 127.0.0.1, on a port the system picks, and writes the
port to PORTFILE once it accepts connections. It speaks HTTP/1.1 with
keep-alive, ignores signatures and serves path-style /BUCKET/KEY: PUT
stores the body (200), GET returns it (404 NoSuchKey when absent), HEAD,
DELETE (204, absent or not), and GET /BUCKET?list-type=2&prefix=P
[&continuation-token=T] lists the keys (ListObjectsV2) K a page (50 by
default), in key order.

Faults, counted per (method, path with query), so that every object and
every listing page gets its own:
    fail-first N   the first N requests get 503 SlowDown, later ones are
                   served
    drop-first N   the first N requests: the connection is closed without
                   an answer
    status S       every request is answered with status S (403 gives
                   AccessDenied, a 5xx InternalError)

Two unsigned requests, never faulted nor counted, control it: POST
/__control?mode=MODE&n=N sets the mode and zeroes the counts; GET
/__stats answers the counts as JSON, {"METHOD PATH": requests}. The
"control" and "check" commands are their clients; "check" exits 1 unless
every request of KIND was made exactly COUNT times, and prints how many
paths it saw.
"""
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape

MODES = ("none", "fail-first", "drop-first", "status")
ERROR_CODES = {403: "AccessDenied", 404: "NoSuchKey", 503: "SlowDown"}


class State:
    def __init__(self, mode, n, max_keys):
        self.lock = threading.Lock()
        self.objects = {}  # (bucket, key) -> bytes
        self.counts = {}   # "METHOD PATH" -> requests
        self.mode = mode
        self.n = n
        self.max_keys = max_keys

    def count(self, method, path):
        """Count a request; return the fault to apply: None, "drop" or a
        status."""
        with self.lock:
            name = method + " " + path
            seen = self.counts.get(name, 0)
            self.counts[name] = seen + 1
            if self.mode == "fail-first" and seen < self.n:
                return 503
            if self.mode == "drop-first" and seen < self.n:
                return "drop"
            if self.mode == "status":
                return self.n
            return None


def error_xml(status):
    code = ERROR_CODES.get(status, "InternalError" if status >= 500
                           else "InvalidRequest")
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s"
            "</Code><Message>fake_s3: %d</Message></Error>\n"
            % (code, status)).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without this, Nagle's
    # algorithm and the client's delayed ACK hold every body back.
    disable_nagle_algorithm = True
    state = None  # set by serve()

    def log_message(self, fmt, *args):
        pass  # quiet: the tests print what matters

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def reply(self, status, body=b"", ctype="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def do_any(self):
        body = self.read_body()
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if url.path == "/__control" and self.command == "POST":
            return self.control(query)
        if url.path == "/__stats" and self.command == "GET":
            with self.state.lock:
                data = json.dumps(self.state.counts, sort_keys=True)
            return self.reply(200, data.encode(), "application/json")
        fault = self.state.count(self.command, self.path)
        if fault == "drop":
            self.close_connection = True
            return None
        if fault is not None:
            return self.reply(fault, error_xml(fault))
        parts = url.path.lstrip("/").split("/", 1)
        bucket = urllib.parse.unquote(parts[0])
        key = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
        if not bucket:
            return self.reply(400, error_xml(400))
        if key == "":
            if self.command == "GET" and query.get("list-type") == ["2"]:
                return self.listing(bucket, query)
            return self.reply(400, error_xml(400))
        return self.object(bucket, key, body)

    def object(self, bucket, key, body):
        objects, lock = self.state.objects, self.state.lock
        if self.command == "PUT":
            with lock:
                objects[(bucket, key)] = body
            return self.reply(200)
        if self.command == "DELETE":
            with lock:
                objects.pop((bucket, key), None)
            return self.reply(204)
        if self.command in ("GET", "HEAD"):
            with lock:
                data = objects.get((bucket, key))
            if data is None:
                return self.reply(404, error_xml(404))
            return self.reply(200, data, "application/octet-stream")
        return self.reply(405, error_xml(405))

    def listing(self, bucket, query):
        prefix = query.get("prefix", [""])[0]
        token = query.get("continuation-token", [""])[0]
        after = bytes.fromhex(token).decode() if token else None
        with self.state.lock:
            keys = sorted((k, len(v)) for (b, k), v in
                          self.state.objects.items()
                          if b == bucket and k.startswith(prefix))
        if after is not None:
            keys = [kv for kv in keys if kv[0] > after]
        page = keys[:self.state.max_keys]
        more = len(keys) > len(page)
        out = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/"
               "2006-03-01/\"><Name>%s</Name><Prefix>%s</Prefix>"
               "<KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys>"
               "<IsTruncated>%s</IsTruncated>"
               % (escape(bucket), escape(prefix), len(page),
                  self.state.max_keys, "true" if more else "false")]
        for k, size in page:
            out.append("<Contents><Key>%s</Key><Size>%d</Size>"
                       "<StorageClass>STANDARD</StorageClass></Contents>"
                       % (escape(k), size))
        if more:
            # Opaque to the client, as a real server's is.
            out.append("<NextContinuationToken>%s</NextContinuationToken>"
                       % page[-1][0].encode().hex())
        out.append("</ListBucketResult>\n")
        return self.reply(200, "".join(out).encode())

    def control(self, query):
        mode = query.get("mode", ["none"])[0]
        try:
            n = int(query.get("n", ["0"])[0])
        except ValueError:
            n = -1
        if mode not in MODES or n < 0:
            return self.reply(400, b"bad mode\n", "text/plain")
        with self.state.lock:
            self.state.mode, self.state.n = mode, n
            self.state.counts = {}
        return self.reply(200, b"ok\n", "text/plain")

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = do_any


def orphan_watch(parent):
    """Exit once the parent is gone: a test killed outright (a ctest
    timeout) cannot run its trap, and must not leave a server behind."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client closing its kept-alive connection resets it: normal.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(args):
    portfile, mode, n, max_keys = args[0], "none", 0, 50
    rest = args[1:]
    while rest:
        flag = rest.pop(0)
        if not rest:
            usage()
        value = int(rest.pop(0))
        if flag == "--max-keys":
            max_keys = value
        elif flag in ("--fail-first", "--drop-first", "--status"):
            mode, n = flag[2:], value
        else:
            usage()
    Handler.state = State(mode, n, max_keys)
    threading.Thread(target=orphan_watch, args=(os.getppid(),),
                     daemon=True).start()
    server = Server(("127.0.0.1", 0), Handler)
    # Written whole and renamed: the reader never sees half a number.
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


def control(url, mode, n="0"):
    q = urllib.parse.urlencode({"mode": mode, "n": n})
    req = urllib.request.Request(url + "/__control?" + q, data=b"",
                                 method="POST")
    urllib.request.urlopen(req).read()


def check(url, kind, count):
    with urllib.request.urlopen(url + "/__stats") as r:
        counts = json.load(r)
    seen, bad = 0, []
    for name, n in sorted(counts.items()):
        method, path = name.split(" ", 1)
        is_list = "?" in path
        if kind == "LIST":
            if method != "GET" or not is_list:
                continue
        elif method != kind or is_list:
            continue
        seen += 1
        if n != int(count):
            bad.append("%s: %d requests" % (name, n))
    if seen == 0:
        bad.append("no %s request at all" % kind)
    for line in bad:
        print("%s: expected %s requests each: %s" % (kind, count, line),
              file=sys.stderr)
    print(seen)
    return 1 if bad else 0


def usage():
    sys.exit(__doc__.split("\n\n")[1])


def main(argv):
    if len(argv) >= 2 and argv[0] == "serve":
        return serve(argv[1:])
    try:
        if len(argv) in (3, 4) and argv[0] == "control":
            return control(*argv[1:])
        if len(argv) == 4 and argv[0] == "check":
            return check(*argv[1:])
    except (OSError, ValueError) as e:
        print("fake_s3.py %s: %s" % (argv[0], e), file=sys.stderr)
        return 2
    return usage()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
