import datetime
import operator

from django.db import connections, models, router, transaction
from django.db.models import signals, sql
from django.db.models.expressions import RawSQL
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are append-only and cannot be updated.")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are append-only and cannot be deleted.")


# Each model's INSERT … RETURNING as Django compiles it, per model and
# database alias: compiled SQL only, the same for every request.
_COMPILED_INSERTS: dict = {}
# Rows one compiled statement writes at most; more go through bulk_create.
INSERT_ROWS_MAX = 20


def _compiled_insert(model, using):
    """``(statement, fields, one row's VALUES group)``, or None where the
    shortcut does not apply (a parent model, a signal receiver, a value the
    database returns besides the key, a field with a placeholder of its own)."""
    key = (model, using)
    if key not in _COMPILED_INSERTS:
        meta = model._meta
        compiled = None
        if (not meta.parents and meta.db_returning_fields == [meta.pk] and meta.auto_field is meta.pk
                and not signals.pre_save.has_listeners(model) and not signals.post_save.has_listeners(model)):
            fields = [f for f in meta.local_concrete_fields if f is not meta.pk and not f.generated]
            if not any(hasattr(f, "get_placeholder") for f in fields):
                query = sql.InsertQuery(model)
                query.insert_values(fields, [model()], raw=False)
                compiler = query.get_compiler(using=using)
                compiler.returning_fields = meta.db_returning_fields
                [(statement, params)] = compiler.as_sql()
                group = "(" + ", ".join(["%s"] * len(fields)) + ")"
                if len(params) == len(fields) and statement.count(group) == 1:
                    compiled = (statement, fields, group)
        _COMPILED_INSERTS[key] = compiled
    return _COMPILED_INSERTS[key]


def _prepared(objs, fields, operation: str) -> list | None:
    """Each object's values for ``fields`` as ``save`` writes them
    (``pre_save``), or None when one is an expression: Django's own path
    writes those."""
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name=operation)
    if all(_pre_save_reads(f) for f in fields):
        # Every field's pre_save only reads the attribute: one C-level getter a row.
        read = operator.attrgetter(*[f.attname for f in fields])
        rows = [read(obj) for obj in objs] if len(fields) > 1 else [(read(obj),) for obj in objs]
    else:
        rows = [[f.pre_save(obj, True) for f in fields] for obj in objs]
    return None if any(hasattr(value, "resolve_expression") for row in rows for value in row) else rows


def _pre_save_reads(field) -> bool:
    """Whether ``field.pre_save`` returns the attribute as it is (no automatic
    time, no file to commit)."""
    if isinstance(field, models.DateField):  # and DateTimeField: theirs sets auto_now(_add) times
        return not (field.auto_now or field.auto_now_add)
    return type(field).pre_save is models.Field.pre_save


def insert_rows(objs, *, using: str | None = None) -> list:
    """``save(force_insert=True)`` for new rows of one model — or
    ``bulk_create`` for several — with the INSERT Django writes compiled once
    per model instead of on every call: the issuing path writes eight rows a
    ticket, and assembling each statement cost about as much as running it
    (bench/RESULTS.md, issuance). The same values (each field's ``pre_save``
    and ``get_db_prep_save``) and keys; anything unusual — a value that is an
    expression, a model the shortcut does not apply to, more than
    INSERT_ROWS_MAX rows — goes through Django's own path. For models whose
    ``save`` adds nothing (AppendOnlyModel's only refuses updates)."""
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    if (model.save not in (models.Model.save, AppendOnlyModel.save)
            or any(type(obj) is not model or not obj._state.adding for obj in objs)):
        raise TypeError(f"insert_rows writes new {model.__name__} rows of models without a save() of their own.")
    using = using or router.db_for_write(model, instance=objs[0])
    connection = connections[using]
    compiled = _compiled_insert(model, using)
    rows = None
    if (compiled is not None and len(objs) <= INSERT_ROWS_MAX and all(obj.pk is None for obj in objs)
            and (len(objs) == 1 or connection.features.can_return_rows_from_bulk_insert)):
        statement, fields, group = compiled
        rows = _prepared(objs, fields, "save")
    if rows is None:
        if len(objs) == 1:
            models.Model.save(objs[0], force_insert=True, using=using)
        else:
            model._base_manager.using(using).bulk_create(objs)
        return objs
    params = [f.get_db_prep_save(value, connection) for row in rows for f, value in zip(fields, row)]
    if len(objs) > 1:
        statement = statement.replace(group, ", ".join([group] * len(objs)))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        if connection.features.can_return_columns_from_insert:
            keys = [row[0] for row in cursor.fetchall()]
        else:
            keys = [connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)]
    for obj, pk in zip(objs, keys, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, using
    return objs


def copy_rows(objs, *, using: str | None = None, batch_size: int = 1000) -> int:
    """Many new rows of one model whose keys the caller does not need back
    (the daily job's messages, e-mails and events): ``COPY … FROM STDIN`` on
    PostgreSQL — no statement to assemble, the rows streamed — and
    ``bulk_create`` elsewhere. The same values as ``save`` (each field's
    ``pre_save`` and ``get_db_prep_save``); a model or a value the shortcut
    does not apply to (see ``_compiled_insert``; an expression) goes through
    ``bulk_create``. The objects are left without their keys. Returns how many."""
    objs = list(objs)
    if not objs:
        return 0
    model = type(objs[0])
    if any(type(obj) is not model or not obj._state.adding or obj.pk is not None for obj in objs):
        raise TypeError(f"copy_rows writes new {model.__name__} rows, all of one model, without keys.")
    using = using or router.db_for_write(model, instance=objs[0])
    connection = connections[using]
    compiled = _compiled_insert(model, using) if connection.vendor == "postgresql" else None
    fields = compiled[1] if compiled is not None else ()
    rows = _prepared(objs, fields, "bulk_create") if compiled is not None else None
    if rows is None:
        model._base_manager.using(using).bulk_create(objs, batch_size=batch_size)
        return len(objs)
    _copy(connection, model, fields, rows)
    return len(objs)


def copy_values(model, names: list[str], rows: list[tuple], *, using: str | None = None) -> int:
    """``copy_rows`` for rows given as values — a tuple a row, of the fields
    ``names`` — with no model instance built (the journal's publications:
    thousands a daily step). The fields left out are left to the database
    (NULL): name every field that has a Python default. Returns how many."""
    if not rows:
        return 0
    using = using or router.db_for_write(model)
    connection = connections[using]
    fields = [model._meta.get_field(name) for name in names]
    if connection.vendor != "postgresql":
        model._base_manager.using(using).bulk_create(
            [model(**{f.attname: value for f, value in zip(fields, row)}) for row in rows])
    else:
        _copy(connection, model, fields, rows)
    return len(rows)


def _copy(connection, model, fields, rows) -> None:
    quote = connection.ops.quote_name
    statement = (f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                 "FROM STDIN")
    # A text, number, flag or key, or an aware time or a date, is written as it is: for these fields
    # PostgreSQL's get_db_prep_save returns such a value unchanged, and asking cost more than the COPY.
    plain = [_plain_types(f) for f in fields]
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([value if type(value) in kinds and getattr(value, "tzinfo", True) is not None
                            else f.get_db_prep_save(value, connection) for f, kinds, value in zip(fields, plain, row)])


def _plain_types(field) -> frozenset:
    """The types of value ``field`` writes unchanged on PostgreSQL (a time only when aware)."""
    none = type(None)
    if isinstance(field, (models.CharField, models.TextField)):
        return frozenset({str, none})
    if isinstance(field, (models.IntegerField, models.ForeignKey)):
        return frozenset({int, none})
    if isinstance(field, models.BooleanField):
        return frozenset({bool, none})
    if isinstance(field, models.DateTimeField):
        return frozenset({datetime.datetime, none})
    if isinstance(field, models.DateField):
        return frozenset({datetime.date, none})
    return frozenset()


def update_claimed(claim, values: dict, returning: list[str], *, then=(), **filters) -> list[tuple]:
    """Change the rows ``claim`` selects — a sliced queryset of one model's
    keys, as a rule ``select_for_update(skip_locked=True)`` — to ``values``
    where they also match ``filters``, and return the fields ``returning`` of
    each row changed, in one statement: ``WITH claimed AS MATERIALIZED (…)
    UPDATE … WHERE pk IN (SELECT * FROM claimed) … RETURNING …`` (PostgreSQL,
    and SQLite from 3.35). Where a SELECT … FOR UPDATE and then an UPDATE by
    key took two statements, and locked and wrote each row twice
    (services.events.transition_due). The claim is a materialised CTE so
    that it runs once: as a plain ``IN`` subquery PostgreSQL may run it again
    for every row the UPDATE looks at, each time skipping the rows the
    statement has already changed — a claim of two rows changed every due
    row (tests/compliance/test_daily.py).

    ``then``: statements ``(sql, params)`` that write what follows from the
    change (the journal's rows: services.events.transition_due), run in the
    same statement as data-modifying CTEs reading the changed rows as
    ``moved`` with the columns ``returning`` names (PostgreSQL only)."""
    model = claim.model
    using = router.db_for_write(model)
    connection = connections[using]
    claim_sql, claim_params = claim.query.get_compiler(using).as_sql()
    query = model._base_manager.filter(pk__in=RawSQL("SELECT * FROM claimed", ()), **filters).query
    query = query.chain(sql.UpdateQuery)
    query.add_update_values(values)
    query.clear_ordering(force=True)
    update_sql, update_params = query.get_compiler(using).as_sql()
    if query.related_updates or not update_sql:
        raise TypeError("update_claimed changes the model's own table only.")
    quote, table = connection.ops.quote_name, model._meta.db_table
    fields = [model._meta.pk if name == "pk" else model._meta.get_field(name) for name in returning]
    columns = ", ".join(f"{quote(table)}.{quote(field.column)}" for field in fields)
    statement, params = f"WITH claimed AS MATERIALIZED ({claim_sql}) {update_sql} RETURNING {columns}", [
        *claim_params, *update_params]
    if then:
        if connection.vendor != "postgresql":
            raise TypeError("update_claimed writes what follows a change in its statement on PostgreSQL only.")
        names = ", ".join(quote(name) for name in returning)
        statement = (f"WITH claimed AS MATERIALIZED ({claim_sql}), "
                     f"moved ({names}) AS ({update_sql} RETURNING {columns}), "
                     + ", ".join(f"then{i} AS ({then_sql})" for i, (then_sql, _params) in enumerate(then))
                     + f" SELECT {names} FROM moved")
        params += [param for _sql, then_params in then for param in then_params]
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [tuple(row) for row in cursor.fetchall()]


def insert_one(obj: models.Model, *, using: str | None = None) -> models.Model:
    """``insert_rows`` for one row."""
    return insert_rows([obj], using=using)[0]


class AppendOnlyModel(models.Model):
    """Ledgers and the audit log: rows are added, never changed or removed.
    Corrections are new rows (a refund, a negative point entry)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are append-only and cannot be updated.")
        if not args and set(kwargs) <= {"force_insert", "using"}:
            insert_one(self, using=kwargs.get("using"))  # a new row is all an append-only model writes
        else:
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are append-only and cannot be deleted.")


class ViolationClass(models.TextChoices):
    A = "A", _("A · General violation")
    B = "B", _("B · Serious violation")


def in_chinese() -> bool:
    """Whether the active language is Chinese (the default when none is)."""
    return (get_language() or "zh-hans").lower().startswith("zh")


def bilingual(zh: str, en: str) -> str:
    return zh if in_chinese() or not en else en


class BilingualNameMixin:
    """``name`` in the active language, from ``name_zh`` / ``name_en``."""

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)


class EventAction(models.TextChoices):
    """What an Event records (the journal, SPEC §13's source). Used as
    ``Event.Action``; every action is named by its constant, never a string."""

    TICKET_ISSUED = "ticket_issued", _("Ticket issued")
    TICKET_REVOKED = "ticket_revoked", _("Ticket revoked")
    TICKET_FINAL = "ticket_final", _("Ticket became final")
    TICKET_REINSTATED = "ticket_reinstated", _("Appeal rejected: the ticket stands")
    SHOP_CREATED = "shop_created", _("Shop opened")
    SHOP_STATUS = "shop_status", _("Shop status changed")
    SHOP_CLEARED = "shop_cleared", _("Shop cleared")
    CONTROLLER_BARRED = "controller_barred", _("Shop cleared, controller barred")
    APPEAL_SUBMITTED = "appeal_submitted", _("Appeal submitted")
    APPEAL_APPROVED = "appeal_approved", _("Appeal approved")
    APPEAL_REJECTED = "appeal_rejected", _("Appeal rejected")
    NODE_APPLIED = "node_applied", _("Point node reached")
    NODE_LIFTED = "node_lifted", _("Point node lifted")
    QUALIFICATION_SUBMITTED = "qualification_submitted", _("Certificate submitted")
    QUALIFICATION_REVIEWED = "qualification_reviewed", _("Certificate reviewed")
    QUALIFICATION_LAPSED = "qualification_lapsed", _("Certificate no longer valid")
    QUALIFICATION_SUPERSEDED = "qualification_superseded", _("Certificate superseded")
    NOTICE_OPENED = "notice_opened", _("Rectification notice opened")
    NOTICE_CLOSED = "notice_closed", _("Rectification notice closed")
    PRODUCTS_RELISTED = "products_relisted", _("Products relisted")
    ALLIANCE_APPLIED = "alliance_applied", _("Applied to the Selected Alliance")
    ALLIANCE_DECIDED = "alliance_decided", _("Alliance application decided")
    ALLIANCE_CLOSED = "alliance_closed", _("Alliance membership closed")
    ALLIANCE_CLOSURE_VOIDED = "alliance_closure_voided", _("Alliance closure no longer counts")
    WARNING_RECEIVED = "warning_received", _("Warning received")
    WARNING_ANSWERED = "warning_answered", _("Warning answered")
    WARNING_EXPIRED = "warning_expired", _("Warning not answered in time")
    WARNING_CONFIRMED = "warning_confirmed", _("Warning confirmed")
    WARNING_DISMISSED = "warning_dismissed", _("Warning dismissed")
    PROVIDER_REQUEST_RECORDED = "provider_request_recorded", _("Provider request recorded")
    PROVIDER_REQUEST_DECIDED = "provider_request_decided", _("Provider request decided")
    RENEWAL_ASSESSED = "renewal_assessed", _("Renewal assessed")
    RENEWAL_CONFIRMED = "renewal_confirmed", _("Renewal result confirmed")
    PROVIDER_REVOKED = "provider_revoked", _("Provider's certification revoked")
    PROVIDER_CERTIFIED = "provider_certified", _("Provider certified")
    PROVIDER_EXITED = "provider_exited", _("Provider exited")
    MAIL_DEAD = "mail_dead", _("E-mail undeliverable")
    MAIL_RESENT = "mail_resent", _("E-mail sent again")
    JOB_STARTED = "job_started", _("Job started")
    JOB_DONE = "job_done", _("Job done")
    JOB_FAILED = "job_failed", _("Job failed")
    WEBHOOK_SUBSCRIBED = "webhook_subscribed", _("Webhook subscription created")
    WEBHOOK_CHANGED = "webhook_changed", _("Webhook subscription changed")
    WEBHOOK_SECRET_ROTATED = "webhook_secret_rotated", _("Webhook signing secret replaced")
    WEBHOOK_PAUSED = "webhook_paused", _("Webhook subscription paused")
    WEBHOOK_RESUMED = "webhook_resumed", _("Webhook subscription resumed")
    WEBHOOK_DELETED = "webhook_deleted", _("Webhook subscription deleted")
    MEASURE_ENDED = "measure_ended", _("Measure ended")
    DELIVERY_DEAD = "delivery_dead", _("Webhook delivery given up")
    DELIVERY_RESENT = "delivery_resent", _("Webhook delivery sent again")
    CLAIM_TAKEN = "claim_taken", _("Claimed")
    CLAIM_RELEASED = "claim_released", _("Claim released")
    CLAIM_DONE = "claim_done", _("Claimed item decided")
    CLAIM_REASSIGNED = "claim_reassigned", _("Claim handed over")
    CLAIM_LAPSED = "claim_lapsed", _("Claim's lease ran out")


class EventSubject(models.TextChoices):
    """Whose status an Event records (each transition writes one Event)."""

    TICKET = "ticket", _("ticket")
    APPEAL = "appeal", _("appeal")
    WARNING = "warning", _("violation warning")
    QUALIFICATION = "qualification", _("qualification certificate")
    NOTICE = "notice", _("rectification notice")
    ALLIANCE = "alliance", _("alliance membership")
    NODE = "node", _("point node applied")
    SHOP = "shop", _("shop")
    PROVIDER_REQUEST = "provider_request", _("provider request")
    RENEWAL = "renewal", _("renewal result")
    PROVIDER = "provider", _("service provider")
    MAIL = "mail", _("outgoing e-mail")
    JOB = "job", _("job")
    WEBHOOK = "webhook", _("webhook subscription")
    MEASURE = "measure", _("measure")
    DELIVERY = "delivery", _("webhook delivery")
    CLAIM = "claim", _("claim")
    GAP = "gap", _("product missing a qualification")


def transitions(*pairs) -> dict[tuple[str, str], frozenset]:
    """A model's declared status changes (STYLE §20, django-oscar's
    ``pipeline``): ``((from, to), action or actions)`` pairs → map."""
    table = {}
    for (source, target), actions in pairs:
        table[(str(source), str(target))] = frozenset(
            str(a) for a in (actions if isinstance(actions, (set, frozenset, tuple, list)) else [actions]))
    return table


class Workflow:
    """A model whose ``status`` changes only through its declared
    transitions, each writing one Event (services.transitions)."""

    TRANSITIONS: dict = {}
    EVENT_SUBJECT = ""

    @classmethod
    def allows(cls, source, target, action=None) -> bool:
        actions = cls.TRANSITIONS.get((str(source), str(target)))
        return actions is not None and (action is None or str(action) in actions)

    @classmethod
    def sources_of(cls, target) -> set[str]:
        """The statuses from which ``target`` can be reached."""
        return {source for source, to in cls.TRANSITIONS if to == str(target)}
