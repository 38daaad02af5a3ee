"""Reads shared by the admin, the portal and the jobs."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language

from compliance.models import Event, Measure, NodeApplication, PointNode, ViolationClass
from compliance.services.assessment import point_totals, point_year, shanghai_day_start
from config.db_router import read_alias
from shops.models import Shop


@dataclass
class ClassStanding:
    violation_class: str
    label: str
    total: int
    next_node: PointNode | None

    @property
    def next_threshold(self) -> int | None:
        return self.next_node.threshold if self.next_node else None

    @property
    def next_measures(self) -> str:
        return self.next_node.describe() if self.next_node else ""

    @property
    def points_to_next(self) -> int | None:
        return self.next_node.threshold - self.total if self.next_node else None

    @property
    def percent(self) -> int:
        """How far to the next node, for a progress bar."""
        if not self.next_node:
            return 100
        return min(100, round(100 * self.total / self.next_node.threshold))


@dataclass
class Standing:
    shop: Shop
    year: int
    classes: list[ClassStanding]
    measures: list[Measure]
    nodes: list[NodeApplication]

    @property
    def deposit_short(self):
        return max(self.shop.required_deposit - self.shop.deposit_balance, 0)

    @property
    def resets_at(self) -> datetime.datetime:
        """SPEC §6.2: points reset when the Shanghai year ends."""
        return timezone.make_aware(datetime.datetime(self.year + 1, 1, 1), timezone.get_default_timezone())

    @property
    def suspension_cause(self) -> Measure | None:
        """The suspension the shop is closed until: a ticket's, or a node's."""
        suspensions = [m for m in self.measures if m.kind == Measure.Kind.SUSPEND and m.ends_at]
        return max(suspensions, key=lambda m: m.ends_at, default=None)


@dataclass
class MerchantHealth:
    """The portal's health page beyond the standing: what to do next, and
    which products are held by which ticket (SPEC §6.3)."""

    appealable: list
    held_products: list
    warnings: list
    alliance_min_score: object
    policy: object = None


def merchant_health(shop: Shop, *, now: datetime.datetime | None = None) -> MerchantHealth:
    from compliance.models import MeasureProduct, PolicySettings, Ticket, ViolationWarning
    from compliance.services.appeals import appeal_days_left

    now = now or timezone.now()
    appealable = list(
        Ticket.objects.filter(shop=shop, status=Ticket.Status.ISSUED, appeal_deadline__gte=now)
        .defer("rule_snapshot", "description").order_by("appeal_deadline")[:20]
    )
    for ticket in appealable:
        ticket.days_left = appeal_days_left(ticket, now=now)
    held = list(
        MeasureProduct.objects.filter(measure__shop=shop, measure__status=Measure.Status.ACTIVE,
                                      measure__kind__in=[Measure.Kind.DELIST, Measure.Kind.BAN])
        .select_related("product", "measure__ticket", "measure__node")
        .defer("measure__ticket__rule_snapshot", "measure__ticket__description")
        .order_by("product__title")[:50]
    )
    # Warnings the merchant can still answer (SPEC §11), soonest deadline first.
    warnings = list(ViolationWarning.objects.filter(shop=shop, status=ViolationWarning.Status.OPEN, deadline__gte=now)
                    .only("number", "summary", "deadline").order_by("deadline")[:20])
    for warning in warnings:
        warning.hours_left = int((warning.deadline - now).total_seconds() // 3600)
    policy = PolicySettings.load()
    return MerchantHealth(appealable=appealable, held_products=held, warnings=warnings,
                          alliance_min_score=policy.alliance_min_score, policy=policy)


POINT_NODES_CACHE_KEY = "point-nodes"


def active_point_nodes() -> list:
    """The active point nodes for the standing pages (a handful of rows read
    on every page): cached for a minute, dropped when the service that saves a
    node commits (services.catalogue). Ticket issuance reads them from the
    database (services.assessment)."""
    return cache.get_or_set(POINT_NODES_CACHE_KEY,
                            lambda: list(PointNode.objects.filter(is_active=True).order_by("threshold")), 60)


def forget_point_nodes() -> None:
    cache.delete(POINT_NODES_CACHE_KEY)


def shop_standing(shop: Shop, *, now: datetime.datetime | None = None) -> Standing:
    """A and B points this year with the next node, the deposit against the
    required amount, and the measures in force. Four queries whatever the shop."""
    now = now or timezone.now()
    year = point_year(now)
    totals = point_totals(shop, year)
    nodes = active_point_nodes()
    classes = []
    for cls, label in ViolationClass.choices:
        upcoming = next((n for n in nodes if n.violation_class == cls and n.threshold > totals[cls]), None)
        classes.append(ClassStanding(cls, label, totals[cls], upcoming))
    measures = list(
        Measure.objects.filter(shop=shop, status=Measure.Status.ACTIVE, kind__in=Measure.LASTING)
        .select_related("ticket", "node", "node_application")
        .defer("ticket__rule_snapshot", "ticket__description")  # only the number is shown
        .order_by("-created_at")
    )
    # This year's nodes, in force or lifted, with why (SPEC §6.2).
    nodes = list(
        NodeApplication.objects.filter(shop=shop, year=year, subsumed_by=None)
        .select_related("node", "ticket", "lifted_by")
        .order_by("-applied_at", "-id")
    )
    return Standing(shop=shop, year=year, classes=classes, measures=measures, nodes=nodes)


def ticket_measures(ticket):
    return (Measure.objects.filter(ticket=ticket)
            .select_related("ticket", "node", "node_application__node", "node_application__lifted_by")
            .order_by("id"))


def ticket_timeline(ticket):
    """The ticket's events, and the point nodes its revocation lifted (those
    events belong to the ticket that crossed the node)."""
    lifted_here = Q(shop_id=ticket.shop_id, action=Event.Action.NODE_LIFTED, data__revoked=ticket.number)
    return Event.objects.filter(Q(ticket=ticket) | lifted_here).select_related("actor").order_by("created_at", "id")




class MerchantScope:
    """The only way the portal reads data (STYLE §9): every queryset is limited
    to the shops the user is a member of, so another shop's ticket, appeal or
    file is simply not found (404), whatever the URL says."""

    def __init__(self, user):
        self.user = user
        # One query for the member's shops: the header's shop switch, the
        # current shop and every scoped queryset use this list.
        self._shops = list(
            Shop.objects.filter(members__user=user, members__user__is_active=True)
            .select_related("controller").order_by("shop_no").distinct()
        )
        self.shop_ids = [shop.pk for shop in self._shops]

    def shops(self) -> list:
        return self._shops

    def shop(self, shop_no: str) -> Shop:
        from django.http import Http404

        for shop in self._shops:
            if shop.shop_no == shop_no:
                return shop
        raise Http404

    def tickets(self):
        from compliance.models import Ticket

        return Ticket.objects.filter(shop_id__in=self.shop_ids)

    def ticket(self, number: str):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(self.tickets().select_related("shop", "rule"), number=number)

    def ticket_evidence(self):
        from compliance.models import TicketEvidence

        return TicketEvidence.objects.filter(ticket__shop_id__in=self.shop_ids)

    def appeal_evidence(self):
        from compliance.models import AppealEvidence

        return AppealEvidence.objects.filter(appeal__ticket__shop_id__in=self.shop_ids)

    def warnings(self):
        from compliance.models import ViolationWarning

        return ViolationWarning.objects.filter(shop_id__in=self.shop_ids)

    def warning(self, number: str):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(self.warnings().select_related("shop", "rule", "tier", "ticket"), number=number)

    def warning_files(self):
        from compliance.models import WarningAnswerFile

        return WarningAnswerFile.objects.filter(warning__shop_id__in=self.shop_ids)

    def messages(self):
        """The merchant's own messages (a message belongs to a user, not a shop)."""
        from compliance.models import Message

        return Message.objects.filter(user=self.user)

    def unread_messages(self) -> int:
        return self.messages().filter(read_at=None).count()

    def qualifications(self):
        from compliance.models import Qualification

        return Qualification.objects.filter(shop_id__in=self.shop_ids)

    def qualification_documents(self):
        from compliance.models import QualificationDocument

        return QualificationDocument.objects.filter(qualification__shop_id__in=self.shop_ids)


def appeal_due(now: datetime.datetime) -> dict:
    """Where a pending appeal stands against its decision date: the appeal
    queue's filter and the dashboard's counts use the same definitions."""
    from django.db.models import Q

    end_of_today = shanghai_day_start(now) + datetime.timedelta(days=1)
    return {
        "overdue": Q(due_at__lt=now),
        "today": Q(due_at__gte=now, due_at__lt=end_of_today),
        "later": Q(due_at__gte=end_of_today),
    }


@dataclass
class ChartBar:
    x: float
    day: datetime.date
    a: int
    b: int
    a_y: float
    a_h: float
    b_y: float
    b_h: float


@dataclass
class Dashboard:
    appeals_pending: int | None
    appeals_due_today: int | None
    appeals_overdue: int | None
    bars: list[ChartBar]
    chart_max: int
    chart_width: int
    chart_height: int
    tickets_total: int
    # A reviewer's own work (None for roles that do not issue tickets).
    my_under_appeal: int | None = None
    issued_today: int | None = None
    shops_flagged: int | None = None
    alliance_applied: int | None = None
    alliance_overdue: int | None = None

    @property
    def y_ticks(self) -> list[tuple[int, float]]:
        """(value, y) for 0, half and the top of the chart."""
        values = sorted({0, self.chart_max // 2, self.chart_max})
        return [(v, round(self.chart_height - self.chart_height * v / max(self.chart_max, 1), 1)) for v in values]

    @property
    def week_ticks(self) -> list[ChartBar]:
        """Every seventh day, counted back from today."""
        return [bar for i, bar in enumerate(reversed(self.bars)) if i % 7 == 0][::-1]


def dashboard(user, *, now: datetime.datetime | None = None, days: int = 30) -> Dashboard:
    """The admin index: the reviewer's queues with counts, and tickets issued
    per day by class over the last ``days`` days (drawn as SVG, no script)."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    from compliance.models import Appeal, Ticket

    now = now or timezone.now()
    tz = timezone.get_default_timezone()
    start_of_today = shanghai_day_start(now)
    pending = due_today = overdue = None
    if user.has_perm("compliance.view_appeal"):
        due = appeal_due(now)
        counts = Appeal.objects.filter(status=Appeal.Status.PENDING).aggregate(
            pending=Count("id"),
            overdue=Count("id", filter=due["overdue"]),
            today=Count("id", filter=due["today"]),
        )
        pending, due_today, overdue = counts["pending"], counts["today"], counts["overdue"]

    first_day = (start_of_today - datetime.timedelta(days=days - 1)).date()
    per_day = {first_day + datetime.timedelta(days=i): {"A": 0, "B": 0} for i in range(days)}
    if user.has_perm("compliance.view_ticket"):
        def counts_per_day():
            rows = (
                Ticket.objects.using(read_alias())
                .filter(issued_at__gte=start_of_today - datetime.timedelta(days=days - 1))
                .annotate(day=TruncDate("issued_at", tzinfo=tz))
                .values("day", "violation_class")
                .annotate(n=Count("id"))
            )
            return [(row["day"], row["violation_class"], row["n"]) for row in rows]

        # A month of tickets is tens of thousands of rows on a large platform:
        # the chart is computed at most once a minute (settings.DASHBOARD_CHART_SECONDS).
        key = f"dashboard-chart:{first_day.isoformat()}:{days}:{now.replace(second=0, microsecond=0).isoformat()}"
        for day, cls, n in cache.get_or_set(key, counts_per_day, settings.DASHBOARD_CHART_SECONDS):
            if day in per_day:
                per_day[day][cls] = n
    width, height, gap = 600, 160, 2
    top = max([v["A"] + v["B"] for v in per_day.values()] + [1])
    slot = width / days
    bars = []
    for i, (day, v) in enumerate(sorted(per_day.items())):
        a_h = height * v["A"] / top
        b_h = height * v["B"] / top
        bars.append(ChartBar(x=round(i * slot + gap / 2, 1), day=day, a=v["A"], b=v["B"],
                             a_y=round(height - a_h, 1), a_h=round(a_h, 1),
                             b_y=round(height - a_h - b_h, 1), b_h=round(b_h, 1)))
    mine = {}
    if user.has_perm("compliance.add_ticket"):
        mine = dict(
            my_under_appeal=Ticket.objects.filter(issued_by=user, status=Ticket.Status.APPEALING).count(),
            issued_today=Ticket.objects.filter(issued_at__gte=start_of_today).count(),
            shops_flagged=Shop.objects.filter(review_flagged_at__isnull=False).count(),
        )
    if user.has_perm("compliance.decide_alliance"):
        from compliance.models import AllianceMembership

        counts = AllianceMembership.objects.filter(status=AllianceMembership.Status.APPLIED).aggregate(
            applied=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
        mine.update(alliance_applied=counts["applied"], alliance_overdue=counts["overdue"])
    return Dashboard(pending, due_today, overdue, bars, top, width, height,
                     tickets_total=sum(v["A"] + v["B"] for v in per_day.values()), **mine)


# Qualification certificates (SPEC §4) ---------------------------------------------------------

REQUIREMENTS_CACHE_KEY = "qualification-requirements"


def requirements_now() -> list:
    """The requirement matrix with each row's accepted types, read now."""
    from compliance.models import QualificationRequirement

    rows = list(QualificationRequirement.objects.filter(is_active=True).prefetch_related("accepted_types"))
    for row in rows:
        row.types = sorted(row.accepted_types.all(), key=lambda t: (t.position, t.pk))
        row.type_ids = sorted(t.pk for t in row.types)
    return rows


def active_requirements() -> list:
    """The requirement matrix: a few dozen rows read on every certificate page
    and queue, kept in the cache for a minute and dropped when the service that
    changes a requirement or a type commits (services.qualifications)."""
    return cache.get_or_set(REQUIREMENTS_CACHE_KEY, requirements_now, 60)


def forget_requirements() -> None:
    cache.delete(REQUIREMENTS_CACHE_KEY)


def valid_certificates(today: datetime.date):
    """Approved certificates still in their validity on ``today`` (Shanghai)."""
    from compliance.models import Qualification

    return Qualification.objects.filter(status=Qualification.Status.APPROVED).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today))


def _satisfied(requirement, today: datetime.date):
    """EXISTS a valid certificate of the product's shop that meets the
    requirement for the outer product: an accepted type, the product's brand
    when asked per brand, and covering the product (a certificate that lists
    no products covers the whole shop)."""
    from django.db.models import Exists, OuterRef

    from compliance.models import Qualification

    links = Qualification.products.through.objects
    covers = ~Exists(links.filter(qualification=OuterRef("pk"))) | Exists(
        links.filter(qualification=OuterRef("pk"), product=OuterRef(OuterRef("pk"))))
    found = valid_certificates(today).filter(shop=OuterRef("shop"), qualification_type__in=requirement.type_ids)
    if requirement.per_brand:
        found = found.filter(brand=OuterRef("brand"))
    return Exists(found.filter(covers))


def _applies(requirement) -> Q:
    applies = Q(category=requirement.category) if requirement.category else Q(shop__shop_type=requirement.shop_type)
    if requirement.per_brand:
        applies &= ~Q(brand="")
    return applies


def missing_qualifications(today: datetime.date, requirements=None, *, model=None):
    """Products on sale in trading shops that lack a certificate their
    category or shop type requires (商品资质缺失): one SELECT whatever the
    number of products, with one NOT EXISTS per requirement row."""
    from shops.models import Product

    requirements = active_requirements() if requirements is None else requirements
    missing = Q(pk__in=[])
    for requirement in requirements:
        missing |= _applies(requirement) & ~_satisfied(requirement, today)
    return (model or Product).objects.filter(
        missing, status=Product.Status.ON_SALE, shop__status__in=[Shop.Status.OPEN, Shop.Status.SUSPENDED])


def missing_for(products, today: datetime.date, requirements=None) -> dict:
    """For each product, the requirement rows it does not meet — for a page of
    the queue or a batch of tickets: one query for the shops' certificates."""
    from django.db.models import Prefetch

    from shops.models import Product

    products = list(products)
    if not products:
        return {}
    requirements = active_requirements() if requirements is None else requirements
    type_ids = {pk for r in requirements for pk in r.type_ids}
    certificates = list(
        valid_certificates(today).filter(shop_id__in={p.shop_id for p in products}, qualification_type__in=type_ids)
        .prefetch_related(Prefetch("products", queryset=Product.objects.only("pk")))
    )
    by_shop: dict[int, list] = {}
    for certificate in certificates:
        certificate.product_ids = {p.pk for p in certificate.products.all()}
        by_shop.setdefault(certificate.shop_id, []).append(certificate)
    result = {}
    for product in products:
        lacking = []
        for r in requirements:
            if r.category and product.category != r.category:
                continue
            if r.shop_type and product.shop.shop_type != r.shop_type:
                continue
            if r.per_brand and not product.brand:
                continue
            if not any(
                c.qualification_type_id in r.type_ids and (not r.per_brand or c.brand == product.brand)
                and (not c.product_ids or product.pk in c.product_ids)
                for c in by_shop.get(product.shop_id, [])
            ):
                lacking.append(r)
        result[product.pk] = lacking
    return result



@dataclass
class Certificates:
    """A shop's certificates as the portal shows them (SPEC §4): what to fix
    first (open notices, missing certificates), then every certificate."""

    notices: list
    missing: list  # (product, [requirement, …]) pairs, the first ``MISSING_SHOWN``
    missing_more: bool
    current: list
    history: list
    expiring: list
    warning_days: int


MISSING_SHOWN = 20


def shop_certificates(shop: Shop, *, now: datetime.datetime | None = None, full: bool = True,
                      policy=None) -> Certificates:
    """The certificates page (``full``), or what the health page needs: open
    notices, the first missing certificates and those expiring soon."""
    from compliance.models import PolicySettings, Qualification, QualificationGap, RectificationNotice

    now = now or timezone.now()
    today = timezone.localtime(now, timezone.get_default_timezone()).date()
    warning_days = (policy or PolicySettings.load()).certificate_warning_days
    horizon = today + datetime.timedelta(days=warning_days)
    notices = list(RectificationNotice.objects.filter(shop=shop, status=RectificationNotice.Status.OPEN)
                   .select_related("qualification__qualification_type").order_by("deadline"))
    shown = MISSING_SHOWN if full else 5
    # The queue's open gaps of this shop (a product delisted since is no longer asked for).
    gaps = list(QualificationGap.objects.open().filter(shop=shop, product__status="on_sale")
                .select_related("product__shop").order_by("product_id")[:shown + 1])
    candidates = [gap.product for gap in gaps]
    # The certificates page says what each lacks now (the check may be a day old); the health
    # page only lists the products, one statement fewer on the page merchants open most.
    lacking = missing_for(candidates[:shown], today) if full else {p.pk: [None] for p in candidates}
    if full:
        certificates = list(Qualification.objects.filter(shop=shop).select_related("qualification_type")
                            .prefetch_related("documents", "products").order_by("-submitted_at", "-id")[:200])
    else:
        certificates = list(Qualification.objects.filter(shop=shop, status=Qualification.Status.APPROVED,
                                                          expires_on__lte=horizon)
                            .select_related("qualification_type").order_by("expires_on")[:10])
    for q in certificates:
        q.expiring = q.status == Qualification.Status.APPROVED and q.expires_on is not None and q.expires_on <= horizon
        q.days_left = (q.expires_on - today).days if q.expires_on else None
    current = [q for q in certificates if q.status != Qualification.Status.SUPERSEDED]
    return Certificates(
        notices=notices, missing=[(p, lacking[p.pk]) for p in candidates[:shown] if lacking.get(p.pk)],
        missing_more=len(candidates) > shown,
        current=current if full else [], history=[q for q in certificates if q.status == Qualification.Status.SUPERSEDED],
        expiring=[q for q in current if q.expiring], warning_days=warning_days,
    )


# Selected Alliance and the experience score (SPEC §8, §3) ------------------------------------

@dataclass
class ScoreTrend:
    """The last days' experience scores as a small server-drawn line."""

    points: list  # (day, score)
    width: int = 240
    height: int = 48

    @property
    def polyline(self) -> str:
        if len(self.points) < 2:
            return ""
        first = self.points[0][0]
        span = max((self.points[-1][0] - first).days, 1)
        low = float(min(s for _d, s in self.points)) - 1
        high = float(max(s for _d, s in self.points)) + 1
        return " ".join(
            f"{round((day - first).days / span * (self.width - 4) + 2, 1)},"
            f"{round(self.height - 2 - (float(score) - low) / (high - low) * (self.height - 4), 1)}"
            for day, score in self.points)

    @property
    def change(self):
        return self.points[-1][1] - self.points[0][1] if len(self.points) >= 2 else None


def score_trend(shop: Shop, *, now: datetime.datetime | None = None, days: int = 30) -> ScoreTrend:
    from shops.models import ShopScore

    today = timezone.localtime(now or timezone.now(), timezone.get_default_timezone()).date()
    rows = (ShopScore.objects.filter(shop=shop, day__gt=today - datetime.timedelta(days=days))
            .order_by("day").values_list("day", "score"))
    return ScoreTrend(points=list(rows))


def alliance_summary(shop: Shop, *, cached: bool = False):
    """The shop's membership and, when it is not active, its eligibility.
    The health page keeps the evaluation for a minute (``cached``); applying
    and deciding always evaluate afresh (services.alliance)."""
    from compliance.services.alliance import alliance_eligibility, membership_of

    membership = membership_of(shop)
    if membership.status == membership.Status.ACTIVE:
        return membership, None
    if not cached:
        return membership, alliance_eligibility(shop, membership=membership)
    # The criteria's sentences are in the active language: the key names it.
    key = f"alliance-eligibility:{shop.pk}:{membership.status}:{get_language()}"
    return membership, cache.get_or_set(key, lambda: alliance_eligibility(shop, membership=membership), 60)
