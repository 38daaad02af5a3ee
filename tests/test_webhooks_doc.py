"""docs/WEBHOOKS.md gives receivers a function to verify our signatures: it
must verify, byte for byte, what compliance.webhooks signs — and refuse a
changed body or another secret — so the documentation cannot drift."""

import json
import re
import time

from django.conf import settings

from compliance import webhooks

DOC = settings.BASE_DIR / "docs" / "WEBHOOKS.md"


def documented_verify():
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 16  # "a 15-line function"
    namespace = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 (our own documentation)
    return namespace["verify"]


def test_the_documented_function_verifies_what_we_sign():
    verify = documented_verify()
    body = '{"id": "3f0c…", "type": "ticket.issued", "data": {"shop": "10000001", "理由": "虚假发货"}}'.encode()
    now = int(time.time())
    header = webhooks.signature_header(["whsec_new", "whsec_old"], body, now)
    assert verify("whsec_new", body, header) and verify("whsec_old", body, header)
    assert not verify("whsec_other", body, header)
    assert not verify("whsec_new", body + b" ", header)
    assert not verify("whsec_new", body, webhooks.signature_header(["whsec_new"], body, now - 3600))


def test_the_documented_event_types_are_the_product_s():
    from compliance.models import EVENT_TYPES

    assert re.findall(r"^\| `([a-z]+\.[a-z]+)` \|", DOC.read_text(), re.M) == EVENT_TYPES


def test_every_event_type_has_an_example_body_in_the_event_s_shape():
    from compliance.models import EVENT_TYPES

    examples = dict(re.findall(r"^#### `([a-z.]+)`\n\n```json\n(.*?)```", DOC.read_text(), re.S | re.M))
    assert list(examples) == EVENT_TYPES
    for event_type, text in examples.items():
        event = json.loads(text)
        assert list(event) == ["id", "type", "occurred_at", "shop", "sequence", "data"] and event["type"] == event_type
        assert event["occurred_at"].endswith("+08:00") and event["sequence"] >= 1 and event["data"]
