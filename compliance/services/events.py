import json as jsonlib
import secrets

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils.translation import gettext as _

from compliance.exceptions import InvalidTransition
from compliance.models import Event, Publication
from compliance.models.base import copy_rows, update_claimed
from compliance.wording import PLATFORM_USERNAME

from . import outbound


def platform_actor():
    """The account the platform acts as — the daily job, a preview without a
    reviewer (tickets need an issuer). It cannot log in: no usable password,
    inactive."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=PLATFORM_USERNAME, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def new_event(*, action, at, shop=None, shop_id=None, actor=None, ticket=None, ticket_id=None, subject="",
              subject_id=None, from_status="", to_status="", reason="", data=None, integration=None) -> Event:
    """An Event, unsaved (for a bulk insert): the journal's one constructor."""
    if shop is None and ticket is None and actor is None and integration is None:
        # Keys only (a daily step's thousands): built from its values in field order, as a row
        # read from the database is — a third of the keyword path's time.
        return Event(None, ticket_id, shop_id, subject, subject_id, None, None, action, from_status, to_status,
                     reason, data or {}, at)
    event = Event(shop=shop, ticket=ticket, actor=actor, action=action, subject=subject, subject_id=subject_id,
                  from_status=from_status, to_status=to_status, reason=reason, data=data or {}, created_at=at,
                  integration=integration)
    if shop_id is not None:
        event.shop_id = shop_id
    if ticket_id is not None:
        event.ticket_id = ticket_id
    return event


# new_event's positional path writes the fields in this order.
assert [f.attname for f in Event._meta.concrete_fields] == [
    "id", "ticket_id", "shop_id", "subject", "subject_id", "actor_id", "integration_id", "action", "from_status",
    "to_status", "reason", "data", "created_at"], "Event's fields changed: new_event builds them in order"


def record_event(*, shop, action, at, actor=None, ticket=None, subject="", subject_id=None, from_status="",
                 to_status="", reason="", data=None, integration=None) -> Event:
    """A step that is not a status change (a ticket issued, a node reached, a
    notice opened), or one made by ``transition``."""
    event = new_event(shop=shop, action=action, at=at, actor=actor, ticket=ticket, subject=subject,
                      subject_id=subject_id, from_status=from_status, to_status=to_status, reason=reason, data=data,
                      integration=integration)
    event.save(force_insert=True)
    outbound.note([event])
    return event


def journal(events) -> int:
    """Many new Events at once (a step over many rows), and the publications
    of those SPEC §13 publishes, in the caller's transaction: with
    ``record_event``, the journal's one way in. Returns how many."""
    events = list(events)
    copy_rows(events)
    outbound.note(events)
    return len(events)


def transition(obj, to, *, action, at, actor=None, shop=None, ticket=None, reason="", data=None, integration=None,
               fields=(), table=None, subject=None) -> Event:
    """The one way a workflow's status changes (STYLE §20): ``obj`` — its row
    locked by the caller (services.locks) — moves to ``to`` if its model
    declares that change for ``action``, the status and ``fields`` are saved,
    and one Event records it in the same transaction. ``table`` and
    ``subject`` are for a model that cannot declare its own (a provider,
    whose app knows nothing of the journal)."""
    table = type(obj).TRANSITIONS if table is None else table
    source = str(obj.status)
    if str(action) not in table.get((source, str(to)), ()):
        raise InvalidTransition(_("%(what)s cannot go from %(from)s to %(to)s.") % {
            "what": obj._meta.verbose_name, "from": obj.get_status_display(),
            "to": dict(type(obj).Status.choices).get(to, to)})
    obj.status = to
    obj.save(update_fields=["status", *fields])
    return record_event(shop=shop if shop is not None else getattr(obj, "shop", None), action=action, at=at,
                        actor=actor, ticket=ticket, subject=subject or type(obj).EVENT_SUBJECT, subject_id=obj.pk,
                        from_status=source, to_status=str(to), reason=reason, data=data, integration=integration)


def transition_many(model, rows, *, source, to, action, at, reason="", data=None, updates=None) -> int:
    """A daily step's transition of many rows at once (set-based, SPEC §10):
    ``rows`` are ``(pk, shop_id)`` of rows the caller locked; those still in
    ``source`` move to ``to`` in one UPDATE and get their events (``_move``).
    ``data(pk)`` gives each event's details; ``reason`` is text or, per
    row, ``reason(pk)``. Returns how many moved."""
    _declared(model, source, to, action)
    keys = [pk for pk, _shop in rows]
    if not keys:
        return 0
    return len(_move(model, model.objects.filter(pk__in=keys).values("pk"), {"status": to, **(updates or {})},
                     source=source, to=to, action=action, at=at, reason=reason, data=data, keys=keys))


def transition_due(model, due, *, limit, source, to, action, at, reason="", data=None, key_in_data=None,
                   updates=None) -> list:
    """``transition_many`` for the rows a daily step claims as it moves them:
    up to ``limit`` rows of ``due`` (a queryset of ``model``) that nobody
    else holds locked (a merchant appealing that ticket right now: it is no
    longer due once the appeal is in) move from ``source`` to ``to`` in one
    ``UPDATE … RETURNING``, and get their events — ``data`` the same for
    each, with the row's key under ``key_in_data`` if given — in the
    caller's transaction. Returns the ``(pk, shop_id)`` of the rows moved:
    fewer than ``limit``, and nothing is left to claim."""
    _declared(model, source, to, action)
    # In no order: ordered by key, the planner walked the primary key past every row not due
    # (0.2 s a batch at a million tickets) instead of the index that finds the due ones.
    claim = due.select_for_update(skip_locked=True, no_key=True).order_by().values("pk")[:limit]
    return _move(model, claim, {"status": to, **(updates or {})}, source=source, to=to, action=action, at=at,
                 reason=reason, data=data, key_in_data=key_in_data)


def _move(model, claim, values, *, source, to, action, at, reason, data, key_in_data=None, keys=None) -> list:
    """The rows of ``claim`` still in ``source`` take ``values`` in one
    ``UPDATE … RETURNING`` and get their events; returns their sorted
    ``(pk, shop_id)``. On PostgreSQL the events and their publications are
    written by the same statement, from the rows it changed
    (``_journal_of_moved``): the rows ``journal`` writes, with none built in
    Python — a third of the daily job's finalise step (bench/RESULTS.md).
    Elsewhere ``journal`` writes them for the rows moved."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        rows = sorted(update_claimed(claim, values, ["pk", "shop_id"], status=source))
        if keys is None:  # the same details for every row, with its key under key_in_data
            given = dict(data or {})
            data = lambda pk: {**given, key_in_data: pk} if key_in_data else dict(given)  # noqa: E731
        _journal_moved(model, rows, source=source, to=to, action=action, at=at, reason=reason, data=data)
        return rows
    if keys is None:
        data = data or {}
    then, published = _journal_of_moved(model, connection, source=source, to=to, action=action, at=at,
                                        reason=reason, data=data, key_in_data=key_in_data, keys=keys)
    rows = sorted(update_claimed(claim, values, ["pk", "shop_id"], then=then, status=source))
    if rows and published:
        outbound.relay()
    return rows


def _journal_of_moved(model, connection, *, source, to, action, at, reason, data, key_in_data=None, keys=None):
    """``journal`` for the rows an ``update_claimed`` moves, as statements
    reading them (``moved``: ``pk``, ``shop_id``) — the events, and the
    publications of those SPEC §13 publishes — and whether any is published.
    ``reason`` and ``data`` are the same for every row, or, given the
    ``keys`` of the rows to move, functions of the key: their values are
    then passed as arrays (``given``) beside the rows."""
    quote = connection.ops.quote_name
    subject = model.EVENT_SUBJECT
    rows_sql, rows_params = "moved", []
    if keys is None:
        json = Event._meta.get_field("data").get_db_prep_save(data, connection)
        reason_sql, reason_params = "%s", [str(reason)]
        data_sql, data_params = (("%s::jsonb || jsonb_build_object(%s::text, moved.pk)", [json, key_in_data])
                                 if key_in_data else ("%s::jsonb", [json]))
        types = outbound.published(action, to, data)
        published = ("%s", [types]) if types else None
    else:
        encoder = Event._meta.get_field("data").encoder
        datas = [data(pk) if data else {} for pk in keys]
        types = [outbound.published(action, to, value) for value in datas]
        rows_sql = ("moved JOIN unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) "
                    "AS given (pk, reason, data, types) ON given.pk = moved.pk")
        rows_params = [keys, [str(reason(pk) if callable(reason) else reason) for pk in keys],
                       [jsonlib.dumps(value, cls=encoder) for value in datas], types]
        reason_sql, reason_params, data_sql, data_params = "given.reason", [], "given.data::jsonb", []
        published = ("given.types", []) if any(types) else None

    def insert(target, columns: dict, where: str = "") -> tuple[str, list]:
        names = ", ".join(quote(target._meta.get_field(name).column) for name in columns)
        params = [param for _sql, value in columns.values() for param in value]
        return (f"INSERT INTO {quote(target._meta.db_table)} ({names}) "
                f"SELECT {', '.join(sql for sql, _value in columns.values())} FROM {rows_sql}{where}",
                params + rows_params)

    then = [insert(Event, {
        "ticket": ("moved.pk" if subject == Event.Subject.TICKET else "NULL", []),
        "shop": ("moved.shop_id", []), "subject": ("%s", [subject]), "subject_id": ("moved.pk", []),
        "action": ("%s", [str(action)]), "from_status": ("%s", [str(source)]), "to_status": ("%s", [str(to)]),
        "reason": (reason_sql, reason_params), "data": (data_sql, data_params), "created_at": ("%s", [at])})]
    if published:
        types_sql, types_params = published
        then.append(insert(Publication, {
            "action": ("%s", [str(action)]), "types": (types_sql, types_params), "subject": ("%s", [subject]),
            "subject_id": ("moved.pk", []), "shop_id": ("moved.shop_id", []), "data": (data_sql, data_params),
            "occurred_at": ("%s", [at])}, where="" if keys is None else " WHERE given.types <> ''"))
    return then, bool(published)


def _declared(model, source, to, action) -> None:
    if str(action) not in model.TRANSITIONS.get((str(source), str(to)), ()):
        raise InvalidTransition(_("%(what)s cannot go from %(from)s to %(to)s.") % {
            "what": model._meta.verbose_name, "from": source, "to": to})


def _journal_moved(model, rows, *, source, to, action, at, reason, data) -> None:
    journal([
        new_event(shop_id=shop_id, action=action, at=at, subject=model.EVENT_SUBJECT, subject_id=pk,
                  ticket_id=pk if model.EVENT_SUBJECT == Event.Subject.TICKET else None,
                  from_status=str(source), to_status=str(to), reason=reason(pk) if callable(reason) else reason,
                  data=data(pk) if data else None)
        for pk, shop_id in rows])


def new_number(prefix: str, day, *, random_bytes: int = 4) -> str:
    """One number ``<prefix><yyyymmdd><random hex>``, not checked against the
    table: the unique index refuses a repeat and the caller draws again
    (``ticket_issue``). Among a million numbers of one day a new one repeats
    with a chance of about 1 in 4,300: a retry then, never a wrong ticket.
    Saves a statement on the hottest path (bench/RESULTS.md, issuance)."""
    return f"{prefix}{day:%Y%m%d}{secrets.token_hex(random_bytes).upper()}"


def new_numbers(model, prefix: str, day, count: int = 1, *, random_bytes: int = 4) -> list[str]:
    """``count`` fresh numbers ``<prefix><yyyymmdd><random hex>`` that no row
    of ``model`` has yet. Random, so that numbers do not reveal volumes; the
    birthday bound makes a repeat within a busy day likely at scale, so the
    candidates are checked against the table (one indexed query) and drawn
    again until they are new."""
    numbers: set[str] = set()
    while len(numbers) < count:
        candidates = {f"{prefix}{day:%Y%m%d}{secrets.token_hex(random_bytes).upper()}"
                      for _ in range(count - len(numbers))} - numbers
        taken = set(model.objects.filter(number__in=candidates).values_list("number", flat=True))
        numbers |= candidates - taken
    return list(numbers)
