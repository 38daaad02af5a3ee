from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection


def pytest_configure(config):
    # Loopback only, for this process and the workers it starts (tests/netguard.py).
    from tests import netguard

    netguard.install()
    # SQLite's test database is a file other processes (workers) open: its folder
    # (var/, not in git) must exist on a clean checkout.
    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and name:
        Path(name).parent.mkdir(parents=True, exist_ok=True)

from tests.factories import make_staff


@pytest.fixture(autouse=True)
def _fast_and_private(settings, tmp_path):
    # Fast hashing for the many users tests create; uploads into a throw-away folder.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    from django.core.cache import cache

    cache.clear()  # the dashboard chart is cached: no test sees another's
    from compliance import queueing

    queueing._known_waiting.clear()  # noqa: SLF001 — a task one test saw waiting is not another's


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only claim; .ci/run runs the suite on PostgreSQL too")


@pytest.fixture
def reviewer(db):
    return make_staff("t-reviewer", "Reviewer")


@pytest.fixture
def appeal_reviewer(db):
    return make_staff("t-appeals", "Appeal reviewer")


@pytest.fixture
def compliance_admin(db):
    return make_staff("t-complianceadmin", "Compliance admin")
