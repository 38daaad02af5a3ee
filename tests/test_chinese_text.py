"""Chinese a native reader would write (issue #23): every admin and portal
page of the demo, rendered in Chinese for each demo account, has no ASCII
colon after a Chinese character (the label suffix and separators are "："),
no machine-like stock phrasing ("以 状态"), and no English words outside
codes, numbers, names and addresses."""

import html
import re

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.test_hostile_input import fill, portal_routes

pytestmark = pytest.mark.django_db

CJK = "\u4e00-\u9fff"
COLON_AFTER_CJK = re.compile(rf"[{CJK}）」》]\s*:|[A-Za-z0-9]: ?[{CJK}]")  # "违规单号:", "A12: 停业整顿"
STOCK_PHRASING = re.compile(rf"以 [{CJK}]|增加 [{CJK}]|选择 \S+ 来|查看 [{CJK}]|条结果。|[{CJK}] [{CJK}]+ 不存在")
WORD = re.compile(r"(?<![\w@./-])[A-Za-z][a-z]{2,}(?![\w@./-])")
# Words that are names or codes, never sentences: product and brand names of the demo, file types.
ALLOWED = {
    "English",  # the language switch's choice, in its own language
    "Webhook",  # the term Chinese integration documentation uses (Webhook 推送)
    "Control", "Command", "Mac",  # keys on a keyboard ("按住 Control 键或 Mac 上的 Command 键")
}
# The editors of the bilingual catalogue show each name in both languages by design (name_zh, name_en):
# the English check leaves their pages alone; the colon and phrasing checks do not.
BILINGUAL_EDITORS = ("/admin/compliance/rule/", "/admin/compliance/qualificationtype/",
                     "/admin/compliance/pointnode/", "/admin/compliance/renewalcampaign/")
SKIP_BLOCKS = re.compile(r"<(script|style|pre|code|textarea|svg)\b.*?</\1>", re.S | re.I)
TAGS = re.compile(r"<[^>]+>")
URLS = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+")


def visible_text(page: str) -> str:
    text = TAGS.sub(" ", SKIP_BLOCKS.sub(" ", page))
    return URLS.sub(" ", html.unescape(text))


def problems(url: str, page: str, logins=frozenset()) -> list[str]:
    """What reads wrong on one page; ``logins`` are names too (the user list shows them)."""
    text = visible_text(page)
    found = [f"{url}: ASCII colon in «{text[max(m.start() - 12, 0):m.end() + 12].strip()}»"
             for m in COLON_AFTER_CJK.finditer(text)]
    found += [f"{url}: stock phrasing «{m.group(0)}»" for m in STOCK_PHRASING.finditer(text)]
    seen = set()
    for m in ([] if url.startswith(BILINGUAL_EDITORS) else WORD.finditer(text)):
        if m.group(0) not in ALLOWED and m.group(0) not in logins and m.group(0) not in seen:
            seen.add(m.group(0))
            found.append(f"{url}: English «{' '.join(text[max(m.start() - 24, 0):m.end() + 24].split())}»")
    return found


def admin_pages(user) -> list[str]:
    urls = ["/admin/", "/admin/jobs/", "/admin/password_change/"]
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        opts = model._meta
        if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            continue
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        urls.append(changelist)
        first = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        if first is not None:
            urls.append(f"{changelist}{first}/change/")
            for pattern in model_admin.get_urls():
                route = str(pattern.pattern)
                if "<int:pk>/" in route and route.count("<") == 1:
                    urls.append(changelist + route.replace("<int:pk>", str(first)))
        if user.has_perm(f"{opts.app_label}.add_{opts.model_name}"):
            urls.append(f"{changelist}add/")
    return urls


@pytest.fixture
def world(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))


def check(client: Client, urls) -> list[str]:
    from django.contrib.auth.models import User

    logins = frozenset(User.objects.values_list("username", flat=True))
    found = []
    for url in urls:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            found += problems(url, response.content.decode(), logins)
    return found


@pytest.mark.parametrize("username", ["complianceadmin", "reviewer", "appeals"])
def test_admin_pages_read_as_chinese(world, username):
    from django.contrib.auth.models import User

    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    urls = admin_pages(user)
    assert len(urls) > 30
    found = check(client, urls)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("username", ["merchant1", "merchant3"])
def test_portal_pages_read_as_chinese(world, username):
    from django.contrib.auth.models import User

    from compliance.selectors import MerchantScope

    user = User.objects.get(username=username)
    scope = MerchantScope(user)
    shop = scope.shops()[0]
    values = [shop.shop_no, scope.tickets().values_list("number", flat=True).first() or "x",
              scope.warnings().values_list("number", flat=True).first() or "x"]
    urls = sorted({url for route in portal_routes() if not route.endswith("/logout/") for url in fill(route, values)})
    client = Client()
    client.force_login(user)
    found = check(client, urls + ["/notices/", "/portal/login/"])
    assert found == [], "\n".join(found)


def test_the_checks_find_what_they_look_for():
    page = ("<p>违规单号: WG2026</p><p>以 状态</p><p>选择 店铺 来修改</p><p>Select the shop</p>"
            "<p>时间 10:02 · A12 · 发送至 https://example.com/a:b merchant@example.com</p><script>var x='Hello'</script>")
    found = problems("/x/", page)
    # One colon, two stock phrasings, three English words; not the time, the code, the address, the script.
    assert [f.split("«")[0].split(": ", 1)[1] for f in found] == [
        "ASCII colon in ", "stock phrasing ", "stock phrasing ", "English ", "English ", "English "]
