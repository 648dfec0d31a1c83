"""A webhook receiver on loopback that records every request and fails on command."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Collect POSTs; answer ``fail_with`` for the first ``fail_times`` requests."""

    def __init__(self):
        self.requests: list[dict] = []
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
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def for_path(self, path: str) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
