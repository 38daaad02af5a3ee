"""Django makes one ModelAdmin instance per model for the whole site: state a
method keeps on ``self`` is seen by every other request. Nothing of a
request may be kept there (issue #19: one compliance admin could be shown
another's freshly issued API key), and no changelist sorts by a column its
admin does not declare sortable."""

import ast
import inspect
import re
import textwrap
import threading

import pytest
import requests
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR
from django.core.management import call_command
from django.urls import reverse

from compliance.admin.warnings import IntegrationAdmin
from compliance.models import Integration
from compliance.models.warnings import hash_key

PROJECT = ("compliance.", "shops.", "config.")


def assignments_to_self(cls) -> list[str]:
    """``self.x = …`` (or ``setattr(self, …)``) in any method but ``__init__``
    of ``cls``'s own source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    found = []
    for method in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        if method.name == "__init__":
            continue
        for node in ast.walk(method):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            flat = [t for target in targets for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
            if any(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                   for t in flat):
                found.append(f"{cls.__qualname__}.{method.name}")
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setattr" and node.args
                    and getattr(node.args[0], "id", "") == "self"):
                found.append(f"{cls.__qualname__}.{method.name}")
    return found


def shared_admin_classes() -> set:
    """Every class of ours in the MRO of the site, its model admins and their inlines."""
    objects = [admin.site] + list(admin.site._registry.values())
    objects += [inline for model_admin in admin.site._registry.values() for inline in model_admin.inlines]
    classes = set()
    for obj in objects:
        cls = obj if inspect.isclass(obj) else type(obj)
        classes |= {c for c in cls.__mro__ if c.__module__.startswith(PROJECT)}
    return classes


def test_the_check_finds_state_kept_on_self():
    class Leaky:
        def save_model(self, request):
            self._new_key = "k"

        def changelist_view(self, request):
            self._may, self._now = 1, 2

        def __init__(self):
            self.fine = True

    assert [name.rsplit(".", 2)[-2:] for name in assignments_to_self(Leaky)] == [
        ["Leaky", "save_model"], ["Leaky", "changelist_view"]]


def test_no_admin_method_keeps_request_state_on_the_shared_instance():
    classes = shared_admin_classes()
    assert IntegrationAdmin in classes and len(classes) > 30
    offenders = [name for cls in sorted(classes, key=lambda c: c.__qualname__) for name in assignments_to_self(cls)]
    assert offenders == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_keys_issued_at_once_each_page_shows_its_own(on_postgres, live_server, compliance_admin, monkeypatch):
    """Two compliance admins create an integration at the same moment: both
    requests have saved theirs before either page is rendered (a barrier in
    save_model). Each page must show the key of its own integration."""
    barrier = threading.Barrier(2, timeout=30)
    save_model = IntegrationAdmin.save_model

    def save_then_wait(self, request, obj, form, change):
        save_model(self, request, obj, form, change)
        barrier.wait()

    monkeypatch.setattr(IntegrationAdmin, "save_model", save_then_wait)
    from django.test import Client

    client = Client()
    client.force_login(compliance_admin)
    cookie = client.cookies["sessionid"].value
    url = live_server.url + reverse("admin:compliance_integration_add")
    pages = {}

    def create(name):
        session = requests.Session()
        session.cookies.set("sessionid", cookie)
        form = session.get(url, timeout=30).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        answer = session.post(url, data={"csrfmiddlewaretoken": token, "name": name, "scopes": ["warnings"]},
                              headers={"Referer": url}, timeout=60)
        pages[name] = answer.text

    threads = [threading.Thread(target=create, args=(name,)) for name in ("检测系统甲", "检测系统乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert set(pages) == {"检测系统甲", "检测系统乙"}
    for name, page in pages.items():
        keys = re.findall(r"ck_[A-Za-z0-9_\-]{20,}", page)
        assert len(set(keys)) == 1, page[:2000]
        assert Integration.objects.get(name=name).key_hash == hash_key(keys[0])


@pytest.fixture
def demo_world(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))


def test_ordering_by_a_column_that_is_not_sortable_is_ignored(client, demo_world, compliance_admin):
    """``sortable_by`` hides a header; ``?o=<n>`` must not sort by that column
    anyway (a million tickets by points took seconds): for every changelist,
    each column outside ``sortable_by`` leaves the default order."""
    client.force_login(compliance_admin)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if not compliance_admin.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            continue
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        default = client.get(url).context["cl"].queryset.query.order_by
        list_display = client.get(url).context["cl"].list_display
        names = [e if isinstance(e, str) else getattr(e, "__name__", None) for e in list_display]
        for index, name in enumerate(names):
            if name in (model_admin.sortable_by or ()) or name == "action_checkbox":
                continue
            for order in (str(index), f"-{index}"):
                response = client.get(url, {ORDER_VAR: order})
                assert response.status_code == 200, (url, order)
                assert response.context["cl"].queryset.query.order_by == default, (url, name, order)
                checked += 1
    assert checked > 50


def test_a_sortable_column_still_sorts(client, demo_world, reviewer):
    client.force_login(reviewer)
    url = reverse("admin:compliance_ticket_changelist")
    names = list(client.get(url).context["cl"].list_display)
    issued = names.index("issued_display")
    assert client.get(url, {ORDER_VAR: str(issued)}).context["cl"].queryset.query.order_by[0] == "issued_at"
