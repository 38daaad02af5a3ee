"""A real SMTP server on loopback for the outbox tests (aiosmtpd), and a
port where none listens (a mail server that is down)."""

import socket
import threading

from aiosmtpd.controller import Controller


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self):
        self.received, self.lock = [], threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


class MailServer:
    """``with MailServer(port) as server:`` — an SMTP server on 127.0.0.1:port
    while the block runs; ``server.received`` lists (recipients, message)."""

    def __init__(self, port: int):
        self.port, self.handler = port, _Handler()

    @property
    def received(self) -> list:
        with self.handler.lock:
            return list(self.handler.received)

    def __enter__(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
