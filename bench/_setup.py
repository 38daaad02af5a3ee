"""Shared by the bench scripts: Django set up, and a database of their own."""

import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The benches' merchants get their e-mails in memory: never a mail server, never stdout.
os.environ.setdefault("EMAIL_URL", "memorymail://")

# Benches, like tests, talk only to this machine (tests/netguard.py: a name is not even looked
# up); the worker processes they start run tests/guarded_manage.py for the same reason.
from tests import netguard  # noqa: E402

netguard.install()

import django  # noqa: E402

django.setup()


@contextlib.contextmanager
def throwaway_database():
    """Django's test database for the configured DATABASE_URL, created (and
    migrated, with the shipped catalogue) on entry and dropped on exit, so a
    bench never touches real data."""
    from django.db import connection, connections
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield connection
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)


def write_result(name: str, vendor: str, result: dict) -> None:
    import json

    out = ROOT / "bench" / "results" / f"{name}-{vendor}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written to {out.relative_to(ROOT)}")


def load_average() -> float:
    """The machine's one-minute load average, recorded beside each figure."""
    return round(os.getloadavg()[0], 2)


def lost_updates(shops) -> int:
    """Shops (or shop ids) whose cached balance differs from the ledger, or
    whose running balances do not follow each other (a lost update)."""
    from decimal import Decimal

    from compliance.models import DepositEntry
    from shops.models import Shop

    bad = 0
    for shop in Shop.objects.filter(pk__in=[getattr(s, "pk", s) for s in shops]):
        running, ok = Decimal("0"), True
        for amount, after in DepositEntry.objects.filter(shop=shop).order_by("id").values_list("amount",
                                                                                                "balance_after"):
            running += amount
            ok = ok and running == after
        bad += not (ok and running == shop.deposit_balance)
    return bad
