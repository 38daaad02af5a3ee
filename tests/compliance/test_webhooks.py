"""compliance.webhooks: the signature receivers check and the URLs the
product refuses to call (SPEC §13). No connection is made: the resolver is
patched, and the suite's guard (tests/netguard.py) would fail any that was."""

import hashlib
import hmac

import pytest
from django.core.exceptions import ValidationError

from compliance import webhooks
from tests.resolver import patch_resolver

BODY = '{"id": "0b6f…", "type": "ticket.issued", "名": "值"}'.encode()


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(b"whsec_test", b"1764403200." + BODY, hashlib.sha256).hexdigest()
    assert webhooks.signature_header(["whsec_test"], BODY, 1764403200) == f"t=1764403200,v1={expected}"


def test_a_rotated_secret_signs_beside_the_new_one_and_either_verifies():
    header = webhooks.signature_header(["new-secret", "old-secret"], BODY, 1764403200)
    assert header.count("v1=") == 2
    for secret in ("new-secret", "old-secret"):
        assert webhooks.verify(secret, BODY, header, now=1764403260)
    assert not webhooks.verify("another", BODY, header, now=1764403260)


def test_verification_refuses_an_altered_body_a_stale_timestamp_and_a_malformed_header():
    header = webhooks.signature_header(["s"], BODY, 1764403200)
    assert webhooks.verify("s", BODY, header, now=1764403200)
    assert not webhooks.verify("s", BODY + b" ", header, now=1764403200)
    assert not webhooks.verify("s", BODY, header, now=1764403200 + webhooks.SIGNATURE_TOLERANCE_SECONDS + 1)
    for bad in ("", "v1=abc", "t=x,v1=abc", "t=1,t=2,v1=abc"):
        assert not webhooks.verify("s", BODY, bad, now=1764403200)


@pytest.fixture
def resolver(monkeypatch):
    """Names resolve to what the test says; nothing is looked up."""
    return patch_resolver(monkeypatch, {})


@pytest.mark.parametrize("address", ["10.0.0.5", "169.254.169.254", "127.0.0.1", "192.168.1.20", "172.16.0.1",
                                     "100.64.0.1", "224.0.0.1", "0.0.0.0", "::1", "fc00::1", "fe80::1",
                                     "::ffff:10.0.0.5", "ff02::1"])
def test_in_production_a_name_that_resolves_inside_is_refused(settings, resolver, address):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    resolver["receiver.example.com"] = ["93.184.216.34", address]  # one inside address is enough
    with pytest.raises(ValidationError) as refused:
        webhooks.check_url("https://receiver.example.com/hooks")
    assert refused.value.code == "private" and address in refused.value.messages[0]


def test_in_production_a_public_https_url_passes_with_its_addresses(settings, resolver):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    resolver["receiver.example.com"] = ["93.184.216.34", "2606:2800:220:1::1"]
    assert webhooks.check_url("https://receiver.example.com:8443/hooks?x=1") == ["2606:2800:220:1::1",
                                                                                 "93.184.216.34"]


@pytest.mark.parametrize("url, code", [
    ("http://receiver.example.com/hooks", "scheme"),
    ("ftp://receiver.example.com/hooks", "scheme"),
    ("https://user:pw@receiver.example.com/hooks", "credentials"),
    ("https://nowhere.example.com/hooks", "unresolved"),
    ("https:///hooks", "invalid"),
    ("https://receiver.example.com:99999/hooks", "invalid"),
    ("https://[::1/hooks", "invalid"),
])
def test_in_production_other_urls_are_refused_with_a_reason(settings, resolver, url, code):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    resolver["receiver.example.com"] = ["93.184.216.34"]
    with pytest.raises(ValidationError) as refused:
        webhooks.check_url(url)
    assert refused.value.code == code


def test_where_private_urls_are_allowed_a_local_receiver_passes(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    assert "127.0.0.1" in webhooks.check_url("http://127.0.0.1:8025/hooks")


@pytest.mark.parametrize("env, expected", [
    ({"DJANGO_DEBUG": "true"}, "True"),
    ({"DJANGO_DEBUG": "false"}, "False"),
    ({"DJANGO_DEBUG": "false", "DJANGO_WEBHOOK_ALLOW_PRIVATE_URLS": "true"}, "True"),
])
def test_private_urls_are_allowed_in_development_and_refused_in_production_unless_set(env, expected):
    import os
    import subprocess
    import sys

    from django.conf import settings

    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(DJANGO_SECRET_KEY="s" * 60, DJANGO_ALLOWED_HOSTS="compliance.example.com", **env)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                               "print(settings.WEBHOOK_ALLOW_PRIVATE_URLS)"],
        cwd=settings.BASE_DIR, env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1:] == [expected], result.stderr
