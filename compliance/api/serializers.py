"""What the API reads and writes, exactly as the published schema says it
(SPEC §12: every answer, each status code and each enum value). Input is
checked for shape here; what it refers to (shops, rules, products) is
checked by the services."""

import json

from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from compliance.models import (
    EVENT_TYPES, AllianceMembership, Appeal, DepositEntry, Measure, NodeApplication, Qualification, QualificationType, Rule, RuleTier,
    Ticket, ViolationClass, ViolationWarning, WebhookSubscription,
)
from shops.importing import DAILY_COUNT_MAX
from shops.models import Shop
from shops.numbers import EARLIEST_DAY, NumberRefused, whole_number

from . import limits
from .fields import (
    StrictBooleanField, StrictDateField, StrictDateTimeField, StrictIntegerField, StrictNumberField, StrictRegexField,
)

SHOP_NO = r"^[0-9]{6,20}$"
PRODUCT_NO = r"^[0-9]{6,20}$"
CODE = r"^[-a-zA-Z0-9_]{1,40}$"
NOT_BLANK = r"\S"  # at least one character that is not white space


# Codes that are data (the rule catalogue): the schema lists the codes the
# catalogue holds when the schema is generated.

class RuleCodeField(StrictRegexField):
    def __init__(self, **kwargs):
        super().__init__(CODE, max_length=limits.RULE_CODE_MAX, **kwargs)


class TierCodeField(RuleCodeField):
    pass


class CertificateTypeField(serializers.CharField):
    pass


class _CatalogueEnum(OpenApiSerializerFieldExtension):
    def map_serializer_field(self, auto_schema, direction):
        schema = build_basic_type(OpenApiTypes.STR)
        try:
            schema["enum"] = self.codes()
        except DatabaseError:
            # No catalogue to read (the system checks run the generator before any migration):
            # the field is then described as a plain string.
            pass
        return schema


class RuleCodes(_CatalogueEnum):
    target_class = RuleCodeField

    def codes(self):
        return sorted(set(Rule.objects.values_list("code", flat=True)))


class TierCodes(_CatalogueEnum):
    target_class = TierCodeField

    def codes(self):
        return sorted(set(RuleTier.objects.values_list("code", flat=True)))


class CertificateTypes(_CatalogueEnum):
    target_class = CertificateTypeField

    def codes(self):
        return sorted(QualificationType.objects.values_list("code", flat=True))


def choice(values, **kwargs):
    return serializers.ChoiceField(choices=list(values), **kwargs)


# Warnings ---------------------------------------------------------------------------------------

class WarningIn(serializers.Serializer):
    report_id = StrictRegexField(NOT_BLANK, max_length=limits.REPORT_ID_MAX, help_text=_(
        "The detector's own ID of the report: sending it again changes nothing."))
    shop = StrictRegexField(SHOP_NO, help_text=_("Shop ID."))
    rule = RuleCodeField(help_text=_("Rule code, e.g. fake_shipment."))
    tier = TierCodeField(required=False, help_text=_("Tier code; the rule's first tier if left out."))
    summary = StrictRegexField(NOT_BLANK, max_length=limits.SUMMARY_MAX, help_text=_("One line the merchant reads."))
    detected_at = StrictDateTimeField(help_text=_("RFC 3339 with its offset; not in the future."))
    order_nos = serializers.ListField(
        child=StrictRegexField(limits.ORDER_NO_PATTERN), required=False, max_length=limits.MAX_ORDERS,
        help_text=_("Orders concerned: 6 to 40 letters, digits, “-” or “_”, starting with a letter or digit "
                    "(fake shipment: each confirmed order is charged)."))
    product_nos = serializers.ListField(child=StrictRegexField(PRODUCT_NO), required=False,
                                        max_length=limits.MAX_PRODUCTS, help_text=_("Products concerned."))
    evidence = serializers.DictField(required=False, help_text=_(
        "What the detector saw, as name → value; shown to the merchant and the reviewer as a table. At most "
        "20,000 characters as compact JSON, no NUL character."))

    def validate_evidence(self, value):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if "\\u0000" in text or "\x00" in text:
            raise serializers.ValidationError(_("The evidence may not contain NUL characters."))
        try:  # "\ud800" in JSON is a lone surrogate: no database text can hold it
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise serializers.ValidationError(_("The evidence may not contain unpaired surrogate characters.")) \
                from None
        if len(text) > limits.EVIDENCE_MAX_CHARS:
            raise serializers.ValidationError(_("The evidence may be at most %(n)d characters of JSON.")
                                              % {"n": limits.EVIDENCE_MAX_CHARS})
        return value


class WarningBatchIn(serializers.Serializer):
    warnings = serializers.ListField(child=WarningIn(), min_length=1, max_length=limits.BATCH_LIMIT, help_text=_(
        "1 to 1,000 warnings. Each is checked on its own: a row that is not valid comes back rejected with its "
        "index and reasons, and the others are written."))


class WarningOut(serializers.Serializer):
    number = serializers.CharField()
    report_id = serializers.CharField()
    shop = serializers.CharField(source="shop.shop_no")
    rule = RuleCodeField(source="rule.code")
    tier = TierCodeField(source="tier.code")
    status = choice(ViolationWarning.Status.values)
    received_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField(help_text=_("Empty until decided."))
    ticket = serializers.CharField(source="ticket.number", allow_null=True, default=None)


class RowResultOut(serializers.Serializer):
    index = serializers.IntegerField(min_value=0, help_text=_("The row's position in the batch, from 0."))
    outcome = choice(["created", "duplicate", "rejected"])
    warning = WarningOut(allow_null=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), help_text=_(
        "Field → messages; an item of a list under “field.index” (order_nos.3). Empty unless rejected."))


class BatchResultOut(serializers.Serializer):
    created = serializers.IntegerField(min_value=0)
    duplicates = serializers.IntegerField(min_value=0)
    rejected = serializers.IntegerField(min_value=0)
    results = RowResultOut(many=True)


# Tickets and standing ---------------------------------------------------------------------------

class MeasureOut(serializers.Serializer):
    kind = choice(Measure.Kind.values)
    status = choice(Measure.Status.values)
    ends_at = serializers.DateTimeField(allow_null=True)
    ticket = serializers.CharField(source="ticket.number")


class TicketOut(serializers.Serializer):
    number = serializers.CharField()
    shop = serializers.CharField(source="shop.shop_no")
    rule = RuleCodeField(source="rule.code")
    tier = TierCodeField(source="tier.code")
    violation_class = choice(ViolationClass.values)
    points = serializers.IntegerField(min_value=0)
    deposit_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = choice(Ticket.Status.values)
    issued_at = serializers.DateTimeField()
    appeal_deadline = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    warning = serializers.CharField(allow_null=True, help_text=_("The warning it was confirmed from, if any."))
    measures = MeasureOut(many=True)


class ClassPointsOut(serializers.Serializer):
    violation_class = choice(ViolationClass.values)
    points = serializers.IntegerField()
    next_node = serializers.IntegerField(allow_null=True)


class NodeOut(serializers.Serializer):
    violation_class = choice(ViolationClass.values)
    threshold = serializers.IntegerField(min_value=1)
    status = choice(NodeApplication.Status.values)


class CertificateOut(serializers.Serializer):
    number = serializers.CharField()
    type = CertificateTypeField(source="qualification_type.code")
    status = choice(Qualification.Status.values)
    expires_on = serializers.DateField(allow_null=True)


class StandingOut(serializers.Serializer):
    shop = serializers.CharField()
    status = choice(Shop.Status.values)
    year = serializers.IntegerField()
    points = ClassPointsOut(many=True)
    nodes = NodeOut(many=True)
    deposit_balance = serializers.DecimalField(max_digits=12, decimal_places=2)
    deposit_required = serializers.DecimalField(max_digits=12, decimal_places=2)
    measures = MeasureOut(many=True)
    alliance = choice(AllianceMembership.Status.values, help_text=_("Selected Alliance membership status."))
    open_rectification_notices = serializers.IntegerField(min_value=0)
    certificates_expiring = CertificateOut(many=True)
    open_warnings = serializers.IntegerField(min_value=0)


# Outbound events (SPEC §13): the objects events carry that no read endpoint shows -------------

class DepositOut(serializers.Serializer):
    kind = choice(DepositEntry.Kind.values)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text=_("Negative for a deduction."))
    requested = serializers.DecimalField(max_digits=12, decimal_places=2)
    shortfall = serializers.DecimalField(max_digits=12, decimal_places=2)
    balance_after = serializers.DecimalField(max_digits=12, decimal_places=2)
    ticket = serializers.CharField(source="ticket.number", allow_null=True, default=None)
    recorded_at = serializers.DateTimeField(source="created_at")


class EventMeasureOut(MeasureOut):
    id = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    products = serializers.ListField(child=serializers.CharField(), help_text=_("Product IDs held by it."))
    point_node = serializers.IntegerField(allow_null=True, help_text=_("The node's points, for a node's measure."))


class AppealOut(serializers.Serializer):
    ticket = serializers.CharField(source="ticket.number")
    attempt = serializers.IntegerField()
    reason = serializers.CharField()
    status = choice(Appeal.Status.values)
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()


class NoticeOut(serializers.Serializer):
    certificate = serializers.CharField(source="qualification.number")
    type = CertificateTypeField(source="qualification.qualification_type.code")
    cause = serializers.CharField()
    deadline = serializers.DateTimeField()
    status = serializers.CharField()
    outcome = serializers.CharField()
    ticket = serializers.CharField(source="ticket.number", allow_null=True, default=None)


class EventCertificateOut(CertificateOut):
    shop = serializers.CharField(source="shop.shop_no")


class AllianceOut(serializers.Serializer):
    shop = serializers.CharField(source="shop.shop_no")
    status = choice(AllianceMembership.Status.values)
    activated_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    close_cause = serializers.CharField()
    close_reason = serializers.CharField()


class ProviderOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    revoked_at = serializers.DateTimeField(allow_null=True)


# Imports ----------------------------------------------------------------------------------------

class OrdersRowIn(serializers.Serializer):
    shop = StrictRegexField(SHOP_NO)
    day = StrictDateField(help_text=_("YYYY-MM-DD, Shanghai calendar; not in the future, from 2000 on."))
    paid_orders = StrictIntegerField(min_value=0, max_value=DAILY_COUNT_MAX)
    gift_orders = StrictIntegerField(min_value=0, max_value=DAILY_COUNT_MAX,
                                     help_text=_("Among the paid orders; at most paid_orders."))


class ScoresRowIn(serializers.Serializer):
    shop = StrictRegexField(SHOP_NO)
    day = StrictDateField(help_text=_("YYYY-MM-DD, Shanghai calendar; not in the future, from 2000 on."))
    score = StrictNumberField(min_value=0, max_value=100, help_text=_("0 to 100, at most two decimals."))


def import_request(row_serializer, name: str):
    return type(name, (serializers.Serializer,), {
        "rows": serializers.ListField(child=row_serializer(), min_length=1, max_length=limits.IMPORT_ROWS_MAX),
        "skip_invalid": StrictBooleanField(default=False, help_text=_(
            "Import the valid rows even when some are invalid; otherwise nothing is written.")),
        "__module__": __name__,
    })


OrdersImportIn = import_request(OrdersRowIn, "OrdersImportIn")
ScoresImportIn = import_request(ScoresRowIn, "ScoresImportIn")


class ImportErrorOut(serializers.Serializer):
    index = serializers.IntegerField(min_value=0, help_text=_("The row's position in ``rows``, from 0."))
    message = serializers.CharField()


class ImportResultOut(serializers.Serializer):
    valid = serializers.IntegerField(min_value=0)
    written = serializers.IntegerField(min_value=0, help_text=_("Rows new or changed; importing again writes nothing."))
    shops = serializers.IntegerField(min_value=0)
    error_count = serializers.IntegerField(min_value=0)
    errors = ImportErrorOut(many=True)


# Errors -----------------------------------------------------------------------------------------

ERROR_CODES = [
    "bad_request", "invalid", "parse_error", "not_authenticated", "authentication_failed", "permission_denied",
    "not_found", "method_not_allowed", "not_acceptable", "unsupported_media_type", "too_large", "throttled",
    "rows_invalid", "server_error",
]


class ErrorDetailOut(serializers.Serializer):
    status = serializers.IntegerField(min_value=400, max_value=599)
    code = choice(ERROR_CODES)
    message = serializers.CharField(help_text=_("For people, in the request's Accept-Language (Chinese by default)."))
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text=_("Invalid input: field → messages (a list's item under field.index)."))
    rows = ImportErrorOut(many=True, required=False, help_text=_("An import refused: the invalid rows."))


class ErrorOut(serializers.Serializer):
    error = ErrorDetailOut()


# Decision quality ---------------------------------------------------------------------------------

class WholeNumberQuery(serializers.IntegerField):
    """A whole number in a query string (text by nature), through the one parser."""

    def to_internal_value(self, data):
        try:
            return whole_number(data, low=self.min_value, high=self.max_value)
        except NumberRefused as exc:
            raise serializers.ValidationError(str(exc)) from None


class QualityQuery(serializers.Serializer):
    year = WholeNumberQuery(min_value=EARLIEST_DAY.year, max_value=2100, required=False, help_text=_(
        "Shanghai calendar year; this year if left out."))
    by = choice(["rule", "reviewer", "month"], default="rule")


class EventsQuery(serializers.Serializer):
    after = WholeNumberQuery(min_value=0, max_value=2 ** 62, default=0, help_text=_(
        "The cursor: the `next` of the page before (0, or left out, for the first event)."))


class EventOut(serializers.Serializer):
    id = serializers.UUIDField(help_text=_("The receiver's de-duplication key."))
    type = choice(EVENT_TYPES)
    occurred_at = serializers.DateTimeField()
    shop = serializers.CharField(allow_null=True, help_text=_("Empty for a service provider's event."))
    sequence = serializers.IntegerField(min_value=1, help_text=_("Per shop, strictly increasing."))
    data = serializers.DictField(help_text=_("The object as the API's read endpoints show it."))


class EventPageOut(serializers.Serializer):
    events = EventOut(many=True)
    next = serializers.CharField(help_text=_("The cursor for the next page (`after`)."))
    has_more = serializers.BooleanField(help_text=_("Whether more events follow now; poll again later if not."))


class QualityRowOut(serializers.Serializer):
    key = serializers.CharField(help_text=_("Rule code, reviewer's user ID or month (YYYY-MM)."))
    label = serializers.CharField()
    issued = serializers.IntegerField(min_value=0)
    appealed = serializers.IntegerField(min_value=0)
    overturned = serializers.IntegerField(min_value=0, help_text=_("Tickets whose appeal was approved."))
    revoked = serializers.IntegerField(min_value=0)
    overturn_rate = serializers.FloatField(min_value=0, max_value=1)
    decisions = serializers.IntegerField(min_value=0, help_text=_("Appeals decided."))
    within_target = serializers.IntegerField(min_value=0, help_text=_("Appeals decided by their due time."))
    median_hours = serializers.FloatField(allow_null=True)
    p90_hours = serializers.FloatField(allow_null=True)
    flagged = serializers.BooleanField()


class DetectorOut(serializers.Serializer):
    name = serializers.CharField()
    confirmed = serializers.IntegerField(min_value=0)
    dismissed = serializers.IntegerField(min_value=0)
    waiting = serializers.IntegerField(min_value=0)


class QualityOut(serializers.Serializer):
    year = serializers.IntegerField()
    by = choice(["rule", "reviewer", "month"])
    rows = QualityRowOut(many=True)
    total = QualityRowOut()
    detectors = DetectorOut(many=True)


# Webhooks (SPEC §13) ------------------------------------------------------------------------------

class WebhookIn(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text=_(
        "Where deliveries are POSTed: https, on a host that resolves to public addresses only."))
    events = serializers.ListField(child=choice(EVENT_TYPES), min_length=1, max_length=len(EVENT_TYPES),
                                   help_text=_("The event types to receive."))


class WebhookChangeIn(serializers.Serializer):
    url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(child=choice(EVENT_TYPES), min_length=1, max_length=len(EVENT_TYPES),
                                   required=False)
    active = serializers.BooleanField(required=False, help_text=_("false pauses the deliveries, true resumes them."))


class WebhookOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=choice(EVENT_TYPES))
    status = choice([WebhookSubscription.Status.ACTIVE, WebhookSubscription.Status.PAUSED])
    created_at = serializers.DateTimeField()
    previous_secret_until = serializers.DateTimeField(allow_null=True, help_text=_(
        "After a rotation: until then deliveries are signed with the old secret too."))


class WebhookSecretOut(WebhookOut):
    secret = serializers.CharField(help_text=_("The signing secret. Shown this once: keep it."))


class WebhookListOut(serializers.Serializer):
    results = WebhookOut(many=True)
