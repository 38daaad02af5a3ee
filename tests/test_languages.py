"""No English leaks into a Chinese page through a cache (issue #19: after a
merchant read the health page in English, the shop's Chinese readers saw
the English alliance summary for a minute). Every portal page is rendered
in English first — filling every cache — and then in Chinese."""

import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from compliance.models import Message, Qualification, Ticket, ViolationWarning
from shops.models import ShopMember

pytestmark = pytest.mark.django_db

# Three English words in a row: a sentence or a phrase, not a code, a number or a name.
ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,;:'’-]+[A-Za-z][a-z]+){2,}\b")


class VisibleText(HTMLParser):
    """The text a reader sees: no script, style or attribute."""

    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style") and self.skip > 0

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.parts.append(data.strip())


def english_in(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return [m.group(0) for part in parser.parts for m in ENGLISH.finditer(part)]


def portal_pages(user) -> list[str]:
    shops = list(ShopMember.objects.filter(user=user).values_list("shop__shop_no", flat=True))
    pages = ["/portal/messages/", "/portal/password/"]
    for shop_no in shops:
        pages += [reverse(name, args=[shop_no]) for name in (
            "portal:standing", "portal:tickets", "portal:warnings", "portal:certificates", "portal:alliance",
            "portal:certificate_new")]
    pages += [reverse("portal:ticket", args=[n]) for n in
              Ticket.objects.filter(shop__shop_no__in=shops).values_list("number", flat=True)[:15]]
    pages += [reverse("portal:warning", args=[n]) for n in
              ViolationWarning.objects.filter(shop__shop_no__in=shops).values_list("number", flat=True)[:10]]
    renew = Qualification.objects.filter(shop__shop_no__in=shops).first()
    if renew:
        pages.append(reverse("portal:certificate_new", args=[renew.shop.shop_no]) + f"?renews={renew.pk}")
    return pages


def test_the_detector_of_english_finds_english():
    assert english_in("<p>Ticket WG20261128 of 2026-11-28 stands; no upheld ticket is allowed</p>")
    assert not english_in("<p>违规单 WG20261128ABCD 仍有效（A · 3 分）<script>var a = 'not shown here';</script></p>")


@pytest.mark.parametrize("username", ["merchant1", "merchant2", "merchant3"])
def test_every_portal_page_in_chinese_after_the_same_page_in_english(username):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    english, chinese = Client(), Client()
    english.force_login(user)
    chinese.force_login(user)
    leaks = {}
    pages = portal_pages(user)
    assert len(pages) > 10
    for page in pages:
        assert english.get(page, HTTP_ACCEPT_LANGUAGE="en").status_code == 200, page
        response = chinese.get(page, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, page
        found = [text for text in english_in(response.content.decode())
                 if text not in ALLOWED]
        if found:
            leaks[page] = found
    assert leaks == {}
    assert Message.objects.filter(user=user).exists()


# Names a merchant or the platform chose, shown as they are in both languages.
ALLOWED = {"English"}
