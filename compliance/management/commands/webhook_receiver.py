"""A receiver for the demo (``make run`` starts it): listens on loopback,
checks each delivery's signature against the secrets of the subscriptions
pointing at it, prints the event and answers 200 — so that a new user sees
signed deliveries arrive, and their log in the admin. Not for production: a
real receiver is the platform's own service (docs/WEBHOOKS.md)."""

import http.server
import json

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from compliance import webhooks
from compliance.models import WebhookSubscription


class Command(BaseCommand):
    help = "Receive the demo's webhook deliveries on 127.0.0.1 and check their signatures."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8025)

    def handle(self, *args, port, **options):
        command = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1_000_000))
                try:
                    signed = self._signed(body)
                except Exception as exc:  # the database not migrated yet, or gone: say so, answer 503
                    command.stderr.write(f"cannot check the signature: {exc}")
                    self._answer(503)
                    return
                finally:
                    connection.close()  # a thread per request: its connection goes with it
                try:
                    event = json.loads(body)
                except ValueError:
                    event = {}
                command.stdout.write(f"{event.get('type', '?')} shop={event.get('shop')} "
                                     f"sequence={event.get('sequence')} signature={'ok' if signed else 'BAD'}")
                self._answer(200 if signed else 401)

            def _signed(self, body: bytes) -> bool:
                url = f"http://127.0.0.1:{port}{self.path}"
                now = timezone.now()
                header = self.headers.get(webhooks.SIGNATURE_HEADER, "")
                return any(webhooks.verify(secret, body, header)
                           for subscription in WebhookSubscription.objects.filter(url=url)
                           for secret in subscription.signing_secrets(now))

            def _answer(self, status: int):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise CommandError(f"127.0.0.1:{port}: {exc}") from exc
        self.stdout.write(f"Receiving webhook deliveries on http://127.0.0.1:{port}/ (Ctrl+C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
