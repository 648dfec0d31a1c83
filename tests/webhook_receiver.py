"""A webhook receiver on loopback that records every request and fails on command."""

import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Collect POSTs; answer ``fail_with`` for the first ``fail_times`` requests.

    With ``drip_seconds`` the answer is sent one byte at a time, that many seconds
    apart (a slow peer: each read is quick, the whole answer takes a minute or more).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 drip_seconds: float | None = None, tls: ssl.SSLContext | None = None):
        self.requests: list[dict] = []
        self.drip_seconds = drip_seconds
        self.fail_times = 0
        self.fail_with = 500
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    failing = receiver.fail_times > 0
                    if failing:
                        receiver.fail_times -= 1
                    status = receiver.fail_with if failing else 200
                    receiver.requests.append({"path": self.path, "body": body,
                                              "headers": dict(self.headers.items()),
                                              "answered": status})
                reply = b'{"error":"not now"}' if failing else b'{"ok":true}'
                if receiver.drip_seconds:
                    return self._drip(status, reply)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def _drip(self, status, reply):
                answer = (f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(reply)}\r\n\r\n").encode() + reply
                for n in range(len(answer)):
                    try:
                        self.wfile.write(answer[n:n + 1])
                        self.wfile.flush()
                    except OSError:
                        return  # the caller gave up
                    time.sleep(receiver.drip_seconds)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        if tls is not None:  # HTTPS with the given server context
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def for_path(self, path: str) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
