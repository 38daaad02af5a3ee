"""What the API reads and writes. Input is checked for shape here; what it
refers to (shops, rules, products) is checked by the services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from compliance.services.warnings import BATCH_LIMIT, MAX_ORDERS, MAX_PRODUCTS

DIGITS = r"^\d{6,20}$"


class WarningIn(serializers.Serializer):
    report_id = serializers.CharField(max_length=64, help_text=_("The detector's own ID of the report: sending "
                                                                 "it again changes nothing."))
    shop = serializers.RegexField(DIGITS, help_text=_("Shop ID."))
    rule = serializers.SlugField(max_length=40, help_text=_("Rule code, e.g. fake_shipment."))
    tier = serializers.SlugField(max_length=40, required=False,
                                 help_text=_("Tier code; the rule's first tier if left out."))
    summary = serializers.CharField(max_length=300, help_text=_("One line the merchant reads."))
    detected_at = serializers.DateTimeField()
    order_nos = serializers.ListField(child=serializers.CharField(max_length=40), required=False,
                                      max_length=MAX_ORDERS, help_text=_("Orders concerned (fake shipment: "
                                                                         "each confirmed order is charged)."))
    product_nos = serializers.ListField(child=serializers.RegexField(DIGITS), required=False,
                                        max_length=MAX_PRODUCTS, help_text=_("Products concerned."))
    evidence = serializers.DictField(required=False, help_text=_(
        "What the detector saw, as name → value; shown to the merchant and the reviewer as a table."))


    EVIDENCE_MAX_CHARS = 20_000

    def validate_evidence(self, value):
        import json

        text = json.dumps(value, ensure_ascii=False)
        if "\\u0000" in text or "\x00" in text:
            raise serializers.ValidationError(_("The evidence may not contain NUL characters."))
        if len(text) > self.EVIDENCE_MAX_CHARS:
            raise serializers.ValidationError(_("The evidence may be at most %(n)d characters of JSON.")
                                              % {"n": self.EVIDENCE_MAX_CHARS})
        return value


class WarningBatchIn(serializers.Serializer):
    warnings = WarningIn(many=True, help_text=_("1 to %(n)d warnings.") % {"n": BATCH_LIMIT})


class WarningOut(serializers.Serializer):
    number = serializers.CharField()
    report_id = serializers.CharField()
    shop = serializers.CharField(source="shop.shop_no")
    rule = serializers.CharField(source="rule.code")
    tier = serializers.CharField(source="tier.code")
    status = serializers.CharField()
    received_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField(help_text=_("Empty until decided."))
    ticket = serializers.CharField(source="ticket.number", allow_null=True, default=None)


class RowResultOut(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("The row's position in the batch, from 0."))
    outcome = serializers.ChoiceField(choices=["created", "duplicate", "rejected"])
    warning = WarningOut(allow_null=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class BatchResultOut(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = RowResultOut(many=True)


class MeasureOut(serializers.Serializer):
    kind = serializers.CharField()
    status = serializers.CharField()
    ends_at = serializers.DateTimeField(allow_null=True)
    ticket = serializers.CharField(source="ticket.number")


class TicketOut(serializers.Serializer):
    number = serializers.CharField()
    shop = serializers.CharField(source="shop.shop_no")
    rule = serializers.CharField(source="rule.code")
    tier = serializers.CharField(source="tier.code")
    violation_class = serializers.CharField()
    points = serializers.IntegerField()
    deposit_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.CharField()
    issued_at = serializers.DateTimeField()
    appeal_deadline = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    warning = serializers.CharField(allow_null=True, help_text=_("The warning it was confirmed from, if any."))
    measures = MeasureOut(many=True)


class ClassPointsOut(serializers.Serializer):
    violation_class = serializers.CharField()
    points = serializers.IntegerField()
    next_node = serializers.IntegerField(allow_null=True)


class NodeOut(serializers.Serializer):
    violation_class = serializers.CharField()
    threshold = serializers.IntegerField()
    status = serializers.CharField()


class CertificateOut(serializers.Serializer):
    number = serializers.CharField()
    type = serializers.CharField(source="qualification_type.code")
    expires_on = serializers.DateField(allow_null=True)


class StandingOut(serializers.Serializer):
    shop = serializers.CharField()
    status = serializers.CharField()
    year = serializers.IntegerField()
    points = ClassPointsOut(many=True)
    nodes = NodeOut(many=True)
    deposit_balance = serializers.DecimalField(max_digits=12, decimal_places=2)
    deposit_required = serializers.DecimalField(max_digits=12, decimal_places=2)
    measures = MeasureOut(many=True)
    alliance = serializers.CharField(help_text=_("Selected Alliance membership status."))
    open_rectification_notices = serializers.IntegerField()
    certificates_expiring = CertificateOut(many=True)
    open_warnings = serializers.IntegerField()


class ImportIn(serializers.Serializer):
    rows = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=10_000)
    skip_invalid = serializers.BooleanField(default=False, help_text=_(
        "Import the valid rows even when some are invalid; otherwise nothing is written."))


class OrdersRowIn(serializers.Serializer):
    shop = serializers.CharField()
    day = serializers.DateField()
    paid_orders = serializers.IntegerField(min_value=0)
    gift_orders = serializers.IntegerField(min_value=0)


class ScoresRowIn(serializers.Serializer):
    shop = serializers.CharField()
    day = serializers.DateField()
    score = serializers.DecimalField(max_digits=5, decimal_places=2)


class ImportErrorOut(serializers.Serializer):
    index = serializers.IntegerField()
    message = serializers.CharField()


class ImportResultOut(serializers.Serializer):
    valid = serializers.IntegerField()
    written = serializers.IntegerField(help_text=_("Rows new or changed; importing again writes nothing."))
    shops = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = ImportErrorOut(many=True)


class ErrorDetailOut(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False)


class ErrorOut(serializers.Serializer):
    error = ErrorDetailOut()


class QualityRowOut(serializers.Serializer):
    key = serializers.CharField(help_text=_("Rule code, reviewer's user ID or month (YYYY-MM)."))
    label = serializers.CharField()
    issued = serializers.IntegerField()
    appealed = serializers.IntegerField()
    overturned = serializers.IntegerField(help_text=_("Tickets whose appeal was approved."))
    revoked = serializers.IntegerField()
    overturn_rate = serializers.FloatField()
    decisions = serializers.IntegerField(help_text=_("Appeals decided."))
    within_target = serializers.IntegerField(help_text=_("Appeals decided by their due time."))
    median_hours = serializers.FloatField(allow_null=True)
    p90_hours = serializers.FloatField(allow_null=True)
    flagged = serializers.BooleanField()


class DetectorOut(serializers.Serializer):
    name = serializers.CharField()
    confirmed = serializers.IntegerField()
    dismissed = serializers.IntegerField()
    waiting = serializers.IntegerField()


class QualityOut(serializers.Serializer):
    year = serializers.IntegerField()
    by = serializers.ChoiceField(choices=["rule", "reviewer", "month"])
    rows = QualityRowOut(many=True)
    total = QualityRowOut()
    detectors = DetectorOut(many=True)
