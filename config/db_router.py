"""Read-only heavy work on a replica, everything else on the primary.

With ``DATABASE_REPLICA_URL`` set, the ``replica`` alias exists and the reads
that can be a few seconds stale — exports, the dashboard chart, reports, the
scale harness's measurements — go there, either explicitly with
``.using(read_alias())`` or for a block of code inside ``read_replica()``.
Writes, and every read that a write depends on (under a row lock), stay on
``default``. Without a replica both are the primary."""

import contextlib
import contextvars

from django.conf import settings

REPLICA = "replica"
_reading = contextvars.ContextVar("read_replica", default=False)


def read_alias() -> str:
    return REPLICA if REPLICA in settings.DATABASES else "default"


@contextlib.contextmanager
def read_replica():
    """Route this block's reads to the replica (when there is one)."""
    token = _reading.set(True)
    try:
        yield read_alias()
    finally:
        _reading.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return read_alias() if _reading.get() else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica follows by replication
