"""A webhook receiver for tests: an HTTP server on 127.0.0.1 (real
sockets) that answers as the test says and keeps what it got."""

import http.server
import ssl
import threading


class Receiver:
    """An HTTP server on 127.0.0.1 answering as ``handle(request)`` says;
    the requests it got are kept."""

    def __init__(self, handle, *, tls: ssl.SSLContext | None = None):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                self.received_body = self.rfile.read(length)
                received.append((self.path, dict(self.headers), self.received_body))
                handle(self)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def answer(status, body=b"ok", headers=()):
    def handle(request):
        request.send_response(status)
        for name, value in headers:
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
    return handle
