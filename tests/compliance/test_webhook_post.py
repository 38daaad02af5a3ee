"""compliance.webhooks.post against real receivers on loopback (real
sockets, real HTTP and TLS): delivered on a 2xx only, redirects not
followed, the answer read up to its cap, a hanging or dripping receiver cut
off at the timeout, an untrusted certificate refused, a URL the product may
not call never connected to."""

import socket
import ssl
import subprocess
import threading
import time

import pytest

from compliance import webhooks
from tests.receiver import Receiver, answer
from tests.resolver import patch_resolver

BODY = '{"id": "e-1", "type": "ticket.issued", "店铺": "10000001"}'.encode()


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receivers run on this machine


def test_a_2xx_is_delivered_with_the_body_and_headers_as_sent():
    with Receiver(answer(202, b'{"ok": true}')) as receiver:
        header = webhooks.signature_header(["s"], BODY, 1764403200)
        result = webhooks.post(f"http://127.0.0.1:{receiver.port}/hooks?x=1", BODY,
                               {webhooks.SIGNATURE_HEADER: header, webhooks.EVENT_ID_HEADER: "e-1"})
    assert result.delivered and result.status == 202 and result.body == '{"ok": true}' and not result.error
    path, headers, body = receiver.received[0]
    assert path == "/hooks?x=1" and body == BODY  # byte for byte: the signature covers it
    assert headers["X-Compliance-Signature"] == header and headers["X-Compliance-Event-Id"] == "e-1"
    assert headers["Content-Type"] == "application/json" and headers["Host"] == f"127.0.0.1:{receiver.port}"
    assert webhooks.verify("s", body, headers["X-Compliance-Signature"], now=1764403200)


def test_an_error_or_a_redirect_is_not_a_delivery_and_the_redirect_is_not_followed():
    with Receiver(answer(500, b"x" * 100_000)) as failing:
        result = webhooks.post(f"http://127.0.0.1:{failing.port}/", BODY, {})
    assert not result.delivered and result.status == 500 and len(result.body) == webhooks.ANSWER_BODY_CAP
    with Receiver(answer(200)) as elsewhere, \
            Receiver(answer(307, headers=[("Location", f"http://127.0.0.1:{elsewhere.port}/")])) as redirecting:
        result = webhooks.post(f"http://127.0.0.1:{redirecting.port}/", BODY, {})
        assert not result.delivered and result.status == 307
        assert elsewhere.received == []


def silent_server():
    """Accepts, reads, never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return server, held


def dripping_server():
    """Answers one byte of a never-ending header every 0.1 s."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        try:
            conn, _ = server.accept()
        except OSError:
            return
        conn.recv(65536)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while True:
                conn.sendall(b"a")
                time.sleep(0.1)
        except OSError:
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return server


@pytest.mark.parametrize("kind", ["silent", "dripping"])
def test_a_receiver_that_hangs_is_cut_off_at_the_timeout(kind):
    server = silent_server()[0] if kind == "silent" else dripping_server()
    try:
        started = time.monotonic()
        result = webhooks.post(f"http://127.0.0.1:{server.getsockname()[1]}/", BODY, {}, timeout=1.0)
        took = time.monotonic() - started
    finally:
        server.close()
    assert not result.delivered and result.error == "timed out" and 0.9 <= took < 1.6, (result, took)


def test_nothing_listening_is_an_error_not_an_exception():
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    result = webhooks.post(f"http://127.0.0.1:{port}/", BODY, {})
    assert not result.delivered and result.status is None and "127.0.0.1" in result.error


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost (openssl, Debian's)."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return server, cert


def test_https_checks_the_receivers_certificate_for_its_name(certificate):
    server_tls, cert = certificate
    with Receiver(answer(200), tls=server_tls) as receiver:
        url = f"https://localhost:{receiver.port}/hooks"
        refused = webhooks.post(url, BODY, {})  # the system's trust store does not know it
        assert not refused.delivered and "CERTIFICATE_VERIFY_FAILED" in refused.error
        trusted = webhooks.post(url, BODY, {}, tls=ssl.create_default_context(cafile=str(cert)))
        assert trusted.delivered and receiver.received[-1][2] == BODY
        wrong_name = webhooks.post(f"https://127.0.0.1:{receiver.port}/hooks", BODY, {},
                                   tls=ssl.create_default_context(cafile=str(cert)))
        assert not wrong_name.delivered and "mismatch" in wrong_name.error.lower()


def test_a_url_the_product_may_not_call_is_never_connected_to(settings, monkeypatch):
    """Checked again at delivery: the name now resolves inside. The network
    guard would fail this test had a connection been tried."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    patch_resolver(monkeypatch, {"receiver.example.com": "169.254.169.254"})
    result = webhooks.post("https://receiver.example.com/hooks", BODY, {})
    assert not result.delivered and result.status is None and "169.254.169.254" in result.error
