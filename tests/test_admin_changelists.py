"""Every admin changelist renders for every staff role that may see it, with
a bounded number of queries, and is refused (403) to roles that may not."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from shops.admin_base import BaseModelAdmin

pytestmark = pytest.mark.django_db

ROLES = ["reviewer", "appeal_reviewer", "compliance_admin"]
MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.fixture
def demo_world(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))


def test_every_model_admin_derives_from_the_base():
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, BaseModelAdmin), model
        assert model_admin.show_full_result_count is False


@pytest.mark.parametrize("role", ROLES)
def test_every_changelist_per_role(client, request, demo_world, django_assert_max_num_queries, role):
    """One test per role over every registered model (the demo world is
    loaded once per role, not once per model)."""
    user = request.getfixturevalue(role)
    client.force_login(user)
    for model in MODELS:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        may_view = user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        with django_assert_max_num_queries(12):
            response = client.get(url)
        assert response.status_code == (200 if may_view else 403), url
        if not may_view:
            continue
        cl = response.context["cl"]
        assert cl.result_count == cl.queryset.count(), url  # the count shown is the list's (no estimate here)
        assert len(cl.result_list) == min(cl.result_count, cl.list_per_page), url
        # A row the list shows (a queue such as the missing-certificate one shows only some rows).
        rows = list(response.context["cl"].result_list)
        first = rows[0] if rows else None
        if first is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            with django_assert_max_num_queries(20):
                assert client.get(change).status_code == 200, change


@pytest.mark.parametrize("role", ROLES)
def test_admin_index_lists_only_what_the_role_may_see(client, request, demo_world, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get("/admin/")
    assert response.status_code == 200
    labels = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert "Shop" in labels and "Group" not in labels
    assert ("PolicySettings" in labels) == (role == "compliance_admin")
