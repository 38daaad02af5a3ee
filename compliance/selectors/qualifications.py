"""Qualification certificates (SPEC §4) as the queue, the portal and the
jobs read them: the requirement matrix, which products lack a certificate,
a shop's certificates, and which tier of the qualification rule a case is."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from compliance.calendar import shanghai
from compliance.exceptions import DomainError
from compliance.models import (
    Measure, MeasureProduct, PolicySettings, Qualification, QualificationGap, QualificationKind,
    QualificationRequirement, RectificationNotice, Rule, RuleTier, Ticket,
)
from shops.models import Product, Shop

from .shops import within


REQUIREMENTS_CACHE_KEY = "qualification-requirements"


def requirements_now() -> list:
    """The requirement matrix with each row's accepted types, read now."""
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
    return Qualification.objects.filter(status=Qualification.Status.APPROVED).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today))


def _satisfied(requirement, today: datetime.date):
    """EXISTS a valid certificate of the product's shop that meets the
    requirement for the outer product: an accepted type, the product's brand
    when asked per brand, and covering the product (a certificate that lists
    no products covers the whole shop)."""
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


# missing_qualifications' querysets as built, by everything they are built from (the model, the day,
# each requirement row's content); a handful live at once. Never evaluated here: each caller gets a copy.
_MISSING_BUILT: dict = {}
_MISSING_BUILT_MAX = 32


def missing_qualifications(today: datetime.date, requirements=None, *, model=None):
    """Products on sale in trading shops that lack a certificate their
    category or shop type requires (商品资质缺失): one SELECT whatever the
    number of products, with one NOT EXISTS per requirement row. Building
    that expression takes ~15 ms; the daily job asks a dozen times a run
    (each shard of four steps), so the built queryset is kept (``_MISSING_BUILT``)
    and each call gets a copy to filter further."""
    requirements = active_requirements() if requirements is None else requirements
    model = model or Product
    key = (model, today, tuple((r.pk, r.category, r.shop_type, r.per_brand, tuple(r.type_ids)) for r in requirements))
    built = _MISSING_BUILT.get(key)
    if built is None:
        missing = Q(pk__in=[])
        for requirement in requirements:
            missing |= _applies(requirement) & ~_satisfied(requirement, today)
        built = model.objects.filter(missing, status=Product.Status.ON_SALE, shop__status__in=Shop.TRADING)
        if len(_MISSING_BUILT) >= _MISSING_BUILT_MAX:
            _MISSING_BUILT.clear()
        _MISSING_BUILT[key] = built
    return built.all()


def shops_changed_since(since: datetime.datetime, shops: tuple[int, int] | None = None) -> set[int]:
    """Shops (of one shard of the daily job, or all) whose missing-certificate
    state may have changed since ``since`` without a certificate announcing
    it: a product created or changed (category, brand, on sale or not:
    ``Product.changed_at``), or the shop itself saved (its status — trading or
    not — its type; ``Shop.updated_at``, which a deposit change bumps too:
    more shops checked, never fewer). Certificate changes and the requirement
    matrix refresh the queue themselves (services.qualifications)."""
    products = within(Product.objects.filter(changed_at__gte=since), shops).values_list("shop_id", flat=True)
    saved = within(Shop.objects.filter(updated_at__gte=since), shops, "id").values_list("id", flat=True)
    return set(products.distinct()) | set(saved)


def missing_for(products, today: datetime.date, requirements=None) -> dict:
    """For each product, the requirement rows it does not meet — for a page of
    the queue or a batch of tickets: one query for the shops' certificates."""
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


# The tickets of the SPEC §4 table ------------------------------------------------------------

# The tiers of the qualification rule (SPEC §4 table), by their catalogue codes.
TIER_FIRST_MINOR, TIER_PRODUCT, TIER_PRODUCT_COMPLAINT = "product_first_minor", "product", "product_complaint"
TIER_OTHER, TIER_OTHER_SERIOUS = "other", "other_especially_serious"
PRODUCT_TIERS = (TIER_FIRST_MINOR, TIER_PRODUCT, TIER_PRODUCT_COMPLAINT)


TRADEMARK_RULE = "trademark_event"


def tier_of_rule(rule_code: str | None, tier_code: str | None, *, day: datetime.date, memo: dict | None = None):
    """The tier ``tier_code`` (the first when None) of the version of rule
    ``rule_code`` (the qualification rule when None) in effect on ``day``.
    Every version of the rule is read, with its tiers, and the day's chosen
    here: a ``memo`` keeps them across a batch whatever its days (the daily
    job's overdue notices, each at its own deadline)."""
    key = ("rule versions", rule_code)
    versions = memo.get(key) if memo is not None else None
    if versions is None:
        rules = Rule.objects.filter(code=rule_code) if rule_code else Rule.objects.filter(is_qualification_rule=True)
        versions = list(rules.prefetch_related(Prefetch("tiers", RuleTier.objects.order_by("position"))))
        if memo is not None:
            memo[key] = versions
    rule = next((r for r in versions if r.is_effective_on(day)), None)  # in Rule's order, as .first() takes
    if rule is None:
        raise DomainError(_("No version of the qualification rule is in effect on %(day)s.") % {"day": day})
    found = next((t for t in rule.tiers.all() if tier_code is None or t.code == tier_code), None)
    if found is None:
        raise DomainError(_("The rule %(rule)s has no tier %(tier)s.") % {"rule": rule.name, "tier": tier_code})
    return found


def qualification_tier(*, shop: Shop, kinds, at: datetime.datetime, complaint=False, especially_serious=False,
                       memo: dict | None = None):
    """SPEC §4 table: which tier of the qualification rule applies to a shop
    whose certificates of ``kinds`` are missing. A product certificate alone is
    first and minor without an earlier product-qualification ticket within the
    policy's look-back; any other kind is the subject/brand/industry row.
    ``memo`` keeps the tiers and each shop's history across a batch."""
    day = shanghai(at).date()
    if set(kinds) - {QualificationKind.PRODUCT}:
        return tier_of_rule(None, TIER_OTHER_SERIOUS if especially_serious else TIER_OTHER, day=day, memo=memo)
    if complaint:
        return tier_of_rule(None, TIER_PRODUCT_COMPLAINT, day=day, memo=memo)
    memo = {} if memo is None else memo
    # By the moment too: a batch may hold many (the daily job's overdue notices, each at its deadline).
    if ("earlier", shop.pk, at) not in memo:
        if "first_minor_days" not in memo:
            memo["first_minor_days"] = PolicySettings.load().first_minor_days
        memo[("earlier", shop.pk, at)] = Ticket.objects.live().filter(
            shop=shop, rule__is_qualification_rule=True, tier__code__in=PRODUCT_TIERS,
            issued_at__gte=at - datetime.timedelta(days=memo["first_minor_days"]), issued_at__lt=at).exists()
    return tier_of_rule(None, TIER_PRODUCT if memo[("earlier", shop.pk, at)] else TIER_FIRST_MINOR, day=day,
                        memo=memo)


def covered_products(qualification: Qualification) -> list[Product]:
    """What a lapsed certificate stops: the products it lists; else a brand
    certificate's brand, an industry or product certificate's required
    categories, a subject certificate's whole shop. Products on sale, or off
    sale only because of a measure (they would come back when it ends)."""
    q = qualification
    products = Product.objects.filter(shop=q.shop_id)
    listed = list(q.products.values_list("pk", flat=True))
    if listed:
        products = products.filter(pk__in=listed)
    elif q.kind == QualificationKind.BRAND:
        products = products.filter(brand=q.brand)
    elif q.kind in (QualificationKind.INDUSTRY, QualificationKind.PRODUCT):
        categories = QualificationRequirement.objects.filter(
            is_active=True, accepted_types=q.qualification_type_id).exclude(category="").values("category")
        products = products.filter(category__in=categories)
    under_measure = MeasureProduct.objects.filter(measure__shop=q.shop_id, measure__status=Measure.Status.ACTIVE)
    return list(products.filter(Q(status=Product.Status.ON_SALE) | Q(pk__in=under_measure.values("product_id")))
                .order_by("pk"))


def brand_products(qualification: Qualification):
    return Product.objects.filter(shop=qualification.shop_id, brand=qualification.brand).exclude(
        status=Product.Status.BANNED)


def missing_groups(products, lacking: dict, *, at, complaint=False, especially_serious=False):
    """Products of the queue grouped into the tickets they would get: one per
    shop and tier. ``lacking`` maps product id → requirement rows it misses."""
    by_shop: dict[int, list] = defaultdict(list)
    for product in products:
        if lacking.get(product.pk):
            by_shop[product.shop_id].append(product)
    groups, memo = [], {}
    for shop_products in by_shop.values():
        shop = shop_products[0].shop
        tiers: dict[int, tuple] = {}
        for product in shop_products:
            kinds = {t.kind for r in lacking[product.pk] for t in r.types}
            tier = qualification_tier(shop=shop, kinds=kinds, at=at, complaint=complaint,
                                      especially_serious=especially_serious, memo=memo)
            tiers.setdefault(tier.pk, (tier, []))[1].append(product)
        groups.extend((shop, tier, items) for tier, items in tiers.values())
    return groups


@dataclass
class MissingPlan:
    """The tickets the missing-certificate queue would issue for a choice of
    products, as the certificates stand now: the products still lacking one,
    what each lacks, and their groups (one ticket per shop and tier)."""

    products: list
    lacking: dict
    groups: list
    complaint: bool = False
    especially_serious: bool = False

    @property
    def ids(self) -> str:
        return ",".join(str(p.pk) for p in self.products)


def missing_plan(product_ids, *, today: datetime.date, at: datetime.datetime, complaint=False,
                 especially_serious=False) -> MissingPlan:
    """Each product of ``product_ids`` checked again against the certificates
    now; products that no longer lack one drop out. Raises ``DomainError``
    when the circumstances name no tier of the rule."""
    requirements = active_requirements()
    products = list(missing_qualifications(today, requirements).filter(pk__in=product_ids).select_related("shop")
                    .order_by("shop_id", "id"))
    lacking = missing_for(products, today, requirements) if products else {}
    groups = missing_groups(products, lacking, at=at, complaint=complaint, especially_serious=especially_serious)
    return MissingPlan(products=products, lacking=lacking, groups=groups, complaint=complaint,
                       especially_serious=especially_serious)


def missing_description(products, lacking) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        lines = [_("Products on sale without a required valid certificate:")]
        for product in products:
            names = "、".join(sorted({str(t) for r in lacking[product.pk] for t in r.types}))
            lines.append(_("%(title)s (%(no)s): needs %(types)s") % {"title": product.title, "no": product.product_no,
                                                                     "types": names})
        return "\n".join(lines)
