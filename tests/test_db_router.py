"""The replica router: read-only heavy work on the replica alias when one is
configured, everything else — writes and reads under a lock — on default."""

import pytest
from django.conf import settings

from compliance.models import Ticket
from config.db_router import ReplicaRouter, read_alias, read_replica


@pytest.fixture
def two_aliases(monkeypatch):
    monkeypatch.setitem(settings.DATABASES, "replica", {**settings.DATABASES["default"]})


def test_without_a_replica_everything_is_the_primary():
    router = ReplicaRouter()
    with read_replica() as alias:
        assert alias == "default" and router.db_for_read(Ticket) == "default"
    assert read_alias() == "default"


def test_with_a_replica_only_marked_reads_go_there(two_aliases):
    router = ReplicaRouter()
    assert router.db_for_read(Ticket) == "default"
    with read_replica() as alias:
        assert alias == "replica" and read_alias() == "replica"
        assert router.db_for_read(Ticket) == "replica"
        assert router.db_for_write(Ticket) == "default"
    assert router.db_for_read(Ticket) == "default"
    assert router.allow_migrate("replica", "compliance") is False
    assert router.allow_migrate("default", "compliance") is True


@pytest.mark.django_db
def test_the_replica_setting_mirrors_the_primary_in_tests(monkeypatch):
    """DATABASE_REPLICA_URL adds the alias with a test mirror of default."""
    import importlib
    import sys

    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://reader@replica.example.com:5432/compliance")
    sys.modules.pop("config.settings", None)
    fresh = importlib.import_module("config.settings")
    try:
        assert fresh.DATABASES["replica"]["HOST"] == "replica.example.com"
        assert fresh.DATABASES["replica"]["TEST"] == {"MIRROR": "default"}
        assert fresh.DATABASE_ROUTERS == ["config.db_router.ReplicaRouter"]
    finally:
        sys.modules.pop("config.settings", None)
        importlib.import_module("config.settings")
