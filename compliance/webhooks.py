"""Outbound webhooks (SPEC §13): the parts every delivery shares — the
signature a receiver checks, whether a receiver's URL may be called at all,
and the one way a delivery is POSTed (``post``). The deliveries themselves
are to be outbox rows a worker sends (issue #22, in progress: see
docs/ARCHITECTURE.md).

Signature: ``X-Compliance-Signature: t=<unix seconds>,v1=<hex>``, where
``v1`` is HMAC-SHA256 with the subscription's secret over ``"<t>.<raw
body>"``. While a rotated secret is still honoured (24 h) the header carries
one ``v1`` per secret, the new one first; a receiver accepts the delivery if
any matches (``verify``, the function docs/WEBHOOKS.md gives receivers).

URLs: ``https`` only, and never a host that resolves to a loopback, private,
link-local, multicast or otherwise non-public address — unless
``settings.WEBHOOK_ALLOW_PRIVATE_URLS`` (on in development). A name is
resolved when the URL is saved and again at each delivery, since what a
name resolves to can change in between; the delivery then connects to an
address this check returned, not to whatever the name resolves to next."""

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SIGNATURE_HEADER = "X-Compliance-Signature"
EVENT_ID_HEADER = "X-Compliance-Event-Id"
EVENT_TYPE_HEADER = "X-Compliance-Event-Type"
# A receiver should refuse signatures older than this (replayed deliveries).
SIGNATURE_TOLERANCE_SECONDS = 300
# A delivery's whole exchange — connect, TLS, request, answer — ends by then (SPEC §13).
DELIVERY_TIMEOUT_SECONDS = 10.0
# Of a receiver's answer only this much is read and kept (the delivery log shows it).
ANSWER_BODY_CAP = 2048
USER_AGENT = "compliance-webhooks/1"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` with ``secret``."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Compliance-Signature`` value: ``t=…`` and one ``v1=…`` per
    secret still honoured, the current one first."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return ",".join([f"t={timestamp}", *(f"v1={signature(secret, body, timestamp)}" for secret in secrets)])


def verify(secret: str, body: bytes, header: str, *, now: float | None = None,
           tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver runs (docs/WEBHOOKS.md): the raw body as received, the
    header, its own secret. True when one ``v1`` matches and ``t`` is recent."""
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in parts if key.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp)
    return any(hmac.compare_digest(expected, value.strip()) for key, value in parts if key.strip() == "v1")


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> list[str]:
    """Refuse (``ValidationError``, in the reader's language) a URL the
    product must not call; return the addresses its host resolves to, for
    the delivery to connect to. Resolves the name: call it when the URL is
    saved and again before every delivery."""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError(_("This is not a valid URL."), code="invalid")
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise ValidationError(_("A webhook URL must start with https://."), code="scheme")
    if not parts.hostname:
        raise ValidationError(_("This is not a valid URL."), code="invalid")
    if parts.username or parts.password:
        raise ValidationError(_("A webhook URL must not carry a user name or password."), code="credentials")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ValidationError(_("The host name %(host)s does not resolve.") % {"host": parts.hostname},
                              code="unresolved")
    addresses = sorted({info[4][0] for info in infos})
    if not allow_private:
        refused = [a for a in addresses if not _public(ipaddress.ip_address(a.split("%", 1)[0]))]
        if refused:
            raise ValidationError(
                _("%(host)s resolves to %(address)s, an address on this machine or a private network: "
                  "webhooks are sent only to public addresses.") % {"host": parts.hostname, "address": refused[0]},
                code="private")
    return addresses


@dataclass
class Answer:
    """What became of one delivery attempt."""

    delivered: bool  # a 2xx answer within the time
    status: int | None  # the receiver's HTTP status, if it answered
    seconds: float
    body: str = ""  # the start of the receiver's answer (ANSWER_BODY_CAP bytes)
    error: str = ""  # why there is no answer (refused URL, no connection, timed out, TLS)


def post(url: str, body: bytes, headers: dict, *, timeout: float = DELIVERY_TIMEOUT_SECONDS,
         tls: ssl.SSLContext | None = None) -> Answer:
    """POST ``body`` (JSON) to a receiver, as SPEC §13 asks: the URL checked
    again (``check_url``: a name may now resolve elsewhere) and the
    connection made to an address that check returned; certificates verified
    (``tls``: the system's trust store unless given); redirects not followed
    (a 3xx is not a delivery); only ``ANSWER_BODY_CAP`` bytes of the answer
    read; and the whole exchange cut off at ``timeout`` — a watchdog shuts
    the socket, so a receiver that hangs or answers a byte at a time cannot
    hold the worker longer. Never raises for the receiver's doing."""
    started = time.monotonic()

    def elapsed() -> float:
        return round(time.monotonic() - started, 3)

    try:
        addresses = check_url(url)
    except ValidationError as exc:
        return Answer(False, None, elapsed(), error=" ".join(exc.messages))
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sock, error = None, ""
    for address in addresses:
        remaining = timeout - (time.monotonic() - started)
        if remaining <= 0:
            break
        try:
            sock = socket.create_connection((address, port), timeout=remaining)
            break
        except OSError as exc:
            error = f"{address}: {exc}"
    if sock is None:
        return Answer(False, None, elapsed(), error=error or "timed out")
    expired = threading.Event()

    def cut_off():
        expired.set()
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    watchdog = threading.Timer(max(timeout - (time.monotonic() - started), 0), cut_off)
    watchdog.daemon = True
    watchdog.start()
    connection = None
    try:
        if parts.scheme == "https":
            sock = (tls or ssl.create_default_context()).wrap_socket(sock, server_hostname=parts.hostname)
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
        connection.sock = sock  # the address checked above, not a new lookup
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        connection.request("POST", path, body=body, headers={
            "Host": host, "Content-Type": "application/json", "User-Agent": USER_AGENT, "Connection": "close",
            **headers})
        response = connection.getresponse()
        answer = response.read(ANSWER_BODY_CAP).decode("utf-8", "replace")
        if expired.is_set():  # what arrived before the cut-off is not an answer
            return Answer(False, None, elapsed(), error="timed out")
        return Answer(200 <= response.status < 300, response.status, elapsed(), answer)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Answer(False, None, elapsed(), error="timed out" if expired.is_set() else f"{type(exc).__name__}: {exc}")
    finally:
        watchdog.cancel()
        (connection or sock).close()
