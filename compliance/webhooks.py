"""Outbound webhooks (SPEC §13): the parts every delivery shares — the
signature a receiver checks, and whether a receiver's URL may be called at
all. Pure functions; the deliveries themselves are outbox rows a worker
sends (issue #22, in progress: see docs/ARCHITECTURE.md).

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
import ipaddress
import socket
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SIGNATURE_HEADER = "X-Compliance-Signature"
EVENT_ID_HEADER = "X-Compliance-Event-Id"
EVENT_TYPE_HEADER = "X-Compliance-Event-Type"
# A receiver should refuse signatures older than this (replayed deliveries).
SIGNATURE_TOLERANCE_SECONDS = 300


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
