"""The suite's network guard (tests/netguard.py) refuses every connection
that would leave the machine, before it is made."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.netguard import OutsideConnection

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("address", ["10.0.0.5", "169.254.169.254", "8.8.8.8", "192.168.1.1", "224.0.0.1"])
def test_an_outside_address_is_refused_before_connecting(address):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(OutsideConnection, match=address):
            sock.connect((address, 443))
        with pytest.raises(OutsideConnection):
            sock.connect_ex((address, 443))


def test_a_name_is_judged_by_what_it_resolves_to(monkeypatch):
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "receiver.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(OutsideConnection, match="receiver.example:443 \\(10.0.0.5\\)"):
            sock.connect(("receiver.example", 443))


def test_loopback_and_ipv6_loopback_connect():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        with socket.create_connection(("localhost", port), timeout=5):
            pass
    if socket.has_ipv6:
        try:
            server6 = socket.create_server(("::1", 0), family=socket.AF_INET6)
        except OSError:
            return  # no IPv6 loopback on this machine
        with server6, socket.create_connection(("::1", server6.getsockname()[1]), timeout=5):
            pass


def test_the_workers_the_tests_start_are_guarded_too():
    code = ("import socket\n"
            "try:\n"
            "    socket.create_connection(('10.0.0.5', 443), timeout=1)\n"
            "except AssertionError as exc:\n"
            "    print('refused:', exc)\n")
    result = subprocess.run([sys.executable, "tests/guarded_manage.py", "shell", "-c", code], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert "refused: a test tried to connect to 10.0.0.5:443" in result.stdout, result.stderr


def test_no_name_goes_to_a_dns_server():
    with pytest.raises(socket.gaierror, match="not resolved in tests"):
        socket.getaddrinfo("example.com", 443)
    assert {info[4][0] for info in socket.getaddrinfo("localhost", 80)} <= {"127.0.0.1", "::1"}
    assert socket.getaddrinfo("127.0.0.1", 80)[0][4][0] == "127.0.0.1"
