"""Messages to merchants. Every one goes through ``notify``: the message is
written to the portal's message centre (SPEC §11) and its e-mail copy to the
outbox, both in the caller's transaction — a rolled-back ticket leaves
neither — and a worker sends the e-mail (services.outbox, STYLE §21)."""

import functools
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone, translation

from compliance.models import Measure, Message, OutboxEmail
from compliance.models.base import copy_rows
from compliance.queueing import wake
from shops.models import ShopMember


# Every ticket reads its shop's recipients. Written out: the ORM took longer
# to assemble this join than the database took to run it (bench/RESULTS.md,
# issuance). Portable SQL, parameters only.
RECIPIENTS_SQL = (f"SELECT m.shop_id, m.user_id, u.email FROM {ShopMember._meta.db_table} m "
                  f"JOIN {get_user_model()._meta.db_table} u ON u.id = m.user_id "
                  "WHERE u.is_active = %s AND m.shop_id IN ({ids}) ORDER BY m.id")
RECIPIENTS_CHUNK = 500
# The task that sends the outbox (services.outbox), queued by path: it imports this module's callers.
MAIL_TASK = "compliance.tasks.deliver_mail"


def recipients_of(shop_ids) -> dict[int, list[tuple[int, str]]]:
    """Each shop's active members as ``(user id, e-mail)``, in the order they
    joined. A caller may read them before it takes a lock and hand them to
    ``notify`` (``ticket_issue`` does: a statement fewer under the shop's lock)."""
    shop_ids = sorted(set(shop_ids))
    members: dict[int, list] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(shop_ids), RECIPIENTS_CHUNK):
            chunk = shop_ids[start:start + RECIPIENTS_CHUNK]
            cursor.execute(RECIPIENTS_SQL.format(ids=", ".join(["%s"] * len(chunk))), [True, *chunk])
            for shop_id, user_id, email in cursor.fetchall():
                members.setdefault(shop_id, []).append((user_id, email))
    return members


def to_tell(rows, queryset):
    """A daily step's way to its messages: of ``rows`` — ``(pk, shop_id)``,
    locked and changed by the caller — the objects of shops with someone to
    tell, read from ``queryset`` (with what their messages show), and those
    shops' recipients for ``notify_many``. Most shops of a day's thousands
    may have no member yet: their rows are not read a second time."""
    members = recipients_of(shop_id for _pk, shop_id in rows)
    told = [pk for pk, shop_id in rows if shop_id in members]
    return (list(queryset.filter(pk__in=told)) if told else []), members


def notify(shop, template: str, build_context, *, recipients=None) -> None:
    """The one way to tell a shop's merchants something: one message per
    active member, and the e-mail copy to those with an address."""
    notify_many(template, [(shop, build_context)], recipients=recipients)


def notify_many(template: str, items, *, recipients=None) -> None:
    """``notify`` for many shops at once (a detector's batch of warnings):
    their members in one query (or ``recipients``, read by the caller with
    ``recipients_of``), every message in one insert, every e-mail in
    another, and a task that sends them once the transaction commits,
    unless one is already waiting (``queueing.wake``)."""
    items = list(items)
    members = recipients if recipients is not None else recipients_of(shop.pk for shop, _build in items)
    rows, mails = [], []
    # Merchants read the platform's language (zh-hans) unless told otherwise.
    with translation.override(settings.LANGUAGE_CODE):
        render = _renderer(template)
        for shop, build_context in items:
            users = members.get(shop.pk)
            if not users:
                continue
            context = build_context()
            subject, body = render(context)
            link = context.get("url", "")[:300]
            rows += [Message(user_id=user_id, shop_id=shop.pk, kind=template, subject=subject, body=body, link=link)
                     for user_id, _email in users]
            mails += [OutboxEmail(shop_id=shop.pk, kind=template, to=email, subject=subject, body=body)
                      for email in sorted({email for _user_id, email in users if email})]
    # A day's reminders are thousands of rows: streamed (COPY) where the database can.
    copy_rows(rows)
    if mails:
        now = timezone.now()
        for mail in mails:
            mail.created_at = mail.next_attempt_at = now
        copy_rows(mails)
        wake(MAIL_TASK, coalesce=True)


def _renderer(template: str):
    """``context`` → (subject, body) of ``emails/<template>``: the two
    templates read once, rendered for each message."""
    subject_template = get_template(f"emails/{template}_subject.txt")
    body_template = get_template(f"emails/{template}.txt")
    return lambda context: (subject_template.render(context).strip()[:200], body_template.render(context))


def staff_with(permission: str):
    """Active users holding ``permission``, through a group or their own."""
    app_label, codename = permission.split(".")
    perm = (Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
            | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label))
    return get_user_model().objects.filter(perm, is_active=True).exclude(email="").distinct().order_by("id")


def notify_staff(permission: str, template: str, context: dict) -> int:
    """Tell the back office something (a webhook subscription paused): an
    e-mail, through the same outbox, to every active user holding
    ``permission`` who has an address. In the platform's language."""
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = _renderer(template)(context)
    now = timezone.now()
    mails = [OutboxEmail(shop=None, kind=template, to=email, subject=subject, body=body, created_at=now,
                         next_attempt_at=now)
             for email in staff_with(permission).values_list("email", flat=True)]
    copy_rows(mails)
    if mails:
        wake(MAIL_TASK, coalesce=True)
    return len(mails)


# A portal URL's one argument (a shop, ticket or warning number) as it appears
# in the URL unchanged: no character reverse() would quote.
_PLAIN_ARGUMENT = re.compile(r"[A-Za-z0-9_-]+\Z")
_SLOT = "0SLOT0"


@functools.lru_cache(maxsize=64)
def _url_shape(name: str, urlconf, prefix: str) -> str:
    """``name``'s URL with a slot for its argument; keyed by everything
    reverse() depends on. Every portal URL a message links to takes its
    number as a ``str`` (tests/compliance/test_notifications.py compares)."""
    return reverse(name, args=[_SLOT], urlconf=urlconf)


def portal_url(name: str, *args) -> str:
    """The absolute portal URL a message links to. A day's reminders link to
    thousands of shops: reverse() once per URL name, not once per message."""
    if len(args) == 1 and _PLAIN_ARGUMENT.match(str(args[0])):
        return settings.SITE_URL + _url_shape(name, get_urlconf(), get_script_prefix()).replace(_SLOT, str(args[0]))
    return settings.SITE_URL + reverse(name, args=args)


def _ticket_url(ticket) -> str:
    return portal_url("portal:ticket", ticket.number)


def notify_ticket_issued(ticket, *, recipients=None) -> None:
    def context():
        # Every measure taken, the ticket's own and a point node's, as the portal shows them.
        measures = list(ticket.measures.exclude(status=Measure.Status.COVERED).select_related("node").order_by("id"))
        for measure in measures:
            measure.ticket = ticket
        return {"ticket": ticket, "shop": ticket.shop, "measures": measures, "url": _ticket_url(ticket)}

    notify(ticket.shop, "ticket_issued", context, recipients=recipients)


def notify_appeals_closing(tickets, *, recipients=None) -> None:
    """SPEC §10: the appeal window closes tomorrow — a message for each ticket,
    all written at once."""
    notify_many("appeal_closing", [
        (t.shop, lambda t=t: {"ticket": t, "shop": t.shop, "url": _ticket_url(t)}) for t in tickets],
        recipients=recipients)


def notify_appeal_decided(appeal) -> None:
    ticket = appeal.ticket
    notify(ticket.shop, "appeal_decided",
           lambda: {"appeal": appeal, "ticket": ticket, "shop": ticket.shop, "url": _ticket_url(ticket)})


def _certificates_url(shop) -> str:
    return portal_url("portal:certificates", shop.shop_no)


def notify_qualification_reviewed(qualification) -> None:
    shop = qualification.shop
    notify(shop, "qualification_reviewed",
           lambda: {"q": qualification, "shop": shop, "url": _certificates_url(shop)})


def by_shop(items) -> list[list]:
    groups: dict[int, list] = {}
    for item in items:
        groups.setdefault(item.shop_id, []).append(item)
    return list(groups.values())


def _notify_per_shop(template: str, items, key: str, shop_of, recipients=None) -> None:
    """One message per shop listing its ``items`` (under ``key``), all shops at once."""
    notify_many(template, [
        (shop_of(group[0]), lambda group=group: {key: group, "shop": shop_of(group[0]),
                                                 "url": _certificates_url(shop_of(group[0]))})
        for group in by_shop(items)], recipients=recipients)


def notify_notices_opened(notices, *, recipients=None) -> None:
    """One message per shop listing its new rectification notices."""
    _notify_per_shop("notices_opened", notices, "notices", lambda n: n.qualification.shop, recipients)


def notify_certificates_expiring(certificates, *, recipients=None) -> None:
    """SPEC §10: each shop's certificates that expire within the warning window."""
    _notify_per_shop("certificates_expiring", certificates, "certificates", lambda q: q.shop, recipients)


def _warning_url(warning) -> str:
    return portal_url("portal:warning", warning.number)


def _notify_warnings(template: str, warnings, recipients=None) -> None:
    """One message per shop listing its warnings (a batch can hold many of
    one shop), linking to the warning or, for several, the shop's list."""
    def context(items):
        url = (_warning_url(items[0]) if len(items) == 1
               else portal_url("portal:warnings", items[0].shop.shop_no))
        return {"warnings": items, "shop": items[0].shop, "url": url}

    notify_many(template, [(items[0].shop, lambda items=items: context(items)) for items in by_shop(warnings)],
                recipients=recipients)


def notify_warnings_opened(warnings) -> None:
    """SPEC §11: the detector's warnings reach the merchant at once."""
    _notify_warnings("warnings_opened", warnings)


def notify_warnings_closing(warnings, *, recipients=None) -> None:
    """SPEC §10: warnings whose time to answer ends within a day."""
    _notify_warnings("warning_closing", warnings, recipients)


def notify_warning_dismissed(warning) -> None:
    notify(warning.shop, "warning_dismissed",
           lambda: {"warning": warning, "shop": warning.shop, "url": _warning_url(warning)})
