"""The links messages carry are reverse()'s, whatever the argument."""

import pytest
from django.conf import settings
from django.urls import reverse

from compliance.notifications import portal_url

NAMES = ["portal:ticket", "portal:warning", "portal:certificates", "portal:warnings", "portal:alliance"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("argument", ["WG20261128A1B2C3D4", "S000123", "shop_no-1", "空格 和斜线", "a%20b", "x?y#z"])
def test_a_portal_link_is_what_reverse_gives(name, argument):
    assert portal_url(name, argument) == settings.SITE_URL + reverse(name, args=[argument])


def test_a_changed_site_address_changes_the_links(settings):
    settings.SITE_URL = "https://compliance.example.test"
    assert portal_url("portal:ticket", "WG1") == "https://compliance.example.test" + reverse("portal:ticket", args=["WG1"])
