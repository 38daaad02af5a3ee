"""No test talks to anything but this machine. These machines flag traffic
to any other address, and a test that reaches the internet passes or fails
with it: every connection a test process makes — the suite, the worker
processes it starts (tests/guarded_manage.py) — must go to loopback
(127.0.0.0/8, ::1) or a Unix socket. Any other raises ``OutsideConnection``
before a packet leaves; a host name is resolved first (with whatever
resolver the test patched in) and refused unless every address is loopback.
No name is sent to a DNS server either: only address literals and
localhost resolve (a DNS query is traffic too).

Code that fetches URLs (webhooks) is tested with a patched resolver that
answers, say, 10.0.0.5: the code must refuse it itself, and if it did not,
this guard would fail the test rather than let it connect.
"""

import ipaddress
import socket

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
# Names answered without asking a DNS server (which would forward the query off the machine).
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class OutsideConnection(AssertionError):
    """A test tried to connect somewhere other than this machine."""


def _loopback(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def check(sock: socket.socket, address) -> None:
    """Raise ``OutsideConnection`` unless ``address`` is on this machine."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # Unix sockets (PostgreSQL's, the test runner's) stay on the machine
    host, port = address[0], address[1]
    if _loopback(host):
        return
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(host, port, sock.family, socket.SOCK_STREAM)}
    except socket.gaierror:
        resolved = set()
    if not resolved or not all(_loopback(ip) for ip in resolved):
        raise OutsideConnection(f"a test tried to connect to {host}:{port} ({', '.join(sorted(resolved)) or 'unresolved'}); "
                                "tests talk only to loopback (tests/netguard.py)")


def _guarded_connect(self, address):
    check(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    check(self, address)
    return _real_connect_ex(self, address)


def _local_getaddrinfo(host, *args, **kwargs):
    """Resolve only what needs no DNS server: address literals and
    localhost's names. Any other name is unknown (a test that needs one
    patches the resolver, as the webhook tests do)."""
    name = host.decode() if isinstance(host, bytes) else host
    if name is None or name.lower() in LOCAL_NAMES:
        return _real_getaddrinfo(host, *args, **kwargs)
    try:
        ipaddress.ip_address(str(name).split("%", 1)[0])
    except ValueError:
        raise socket.gaierror(socket.EAI_NONAME, f"{name}: not resolved in tests (tests/netguard.py)") from None
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    """Guard every socket of this process from now on, and resolve no name
    that would need a DNS server."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.getaddrinfo = _local_getaddrinfo
