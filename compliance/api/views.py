"""The integration API, version 1 (SPEC §12). Every call is logged against
its integration (IntegrationCall) and every write it causes names the
integration in the event trail."""

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from django.utils.translation import gettext as _
from rest_framework import serializers as drf
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.models import IntegrationCall, RectificationNotice, Scope, Ticket, ViolationWarning
from compliance.selectors import shop_certificates, shop_standing
from compliance.services.alliance import membership_of
from compliance.services.warnings import BATCH_LIMIT, warnings_receive
from shops.importing import DAILY_ORDERS, EXPERIENCE_SCORES, ImportRefused, json_rows, run_import_rows
from shops.models import Shop

from . import serializers as s
from .errors import error_body

ERRORS = {code: OpenApiResponse(s.ErrorOut, description=text) for code, text in [
    (400, "Invalid input"), (401, "No key, or an unknown or revoked key"),
    (403, "The key lacks the scope"), (429, "Too many requests: see Retry-After")]}
NOT_FOUND = {404: OpenApiResponse(s.ErrorOut, description="Not found")}


class IntegrationView(APIView):
    """Logs each call with its integration, status and row counts."""

    required_scope: str = ""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        integration = getattr(request, "auth", None)
        if integration is not None and hasattr(integration, "key_hash"):
            IntegrationCall.objects.create(
                integration=integration, method=request.method[:8], path=request.path[:300],
                status=response.status_code, rows=getattr(self, "rows_sent", 0),
                rows_rejected=getattr(self, "rows_rejected", 0), created_at=timezone.now())
        return response


def _warning_data(warning) -> dict:
    return s.WarningOut(warning).data


class WarningBatchView(IntegrationView):
    required_scope = Scope.WARNINGS

    @extend_schema(
        operation_id="warnings_submit", request=s.WarningBatchIn, responses={200: s.BatchResultOut, **ERRORS},
        summary="Submit violation warnings",
        description=f"One to {BATCH_LIMIT} warnings. Each row is checked on its own: valid rows are written, "
                    "invalid ones come back with their index and reasons, a report ID received before comes "
                    "back as that warning, unchanged.")
    def post(self, request):
        rows = request.data.get("warnings") if isinstance(request.data, dict) else None
        if not isinstance(rows, list) or not 1 <= len(rows) <= BATCH_LIMIT:
            return Response(error_body(400, "invalid", f"Send {{\"warnings\": [...]}} with 1 to {BATCH_LIMIT} "
                                                      "warnings."), status=400)
        self.rows_sent = len(rows)
        parsed, shape_errors = [], {}
        # One serializer for every row: DRF copies a serializer's fields per
        # instance, which would cost more than the rest of the batch.
        validator = s.WarningIn()
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                shape_errors[i] = {"non_field_errors": [_("A warning is a JSON object.")]}
                continue
            try:
                parsed.append((i, validator.run_validation(row)))
            except ValidationError as exc:
                shape_errors[i] = exc.detail
        results = warnings_receive(integration=request.auth, rows=[row for _i, row in parsed])
        shown = s.WarningOut([r.warning for r in results if r.warning], many=True).data
        out = [None] * len(rows)
        for i, errors in shape_errors.items():
            out[i] = {"index": i, "outcome": "rejected", "warning": None, "errors": errors}
        shown_iter = iter(shown)
        for (i, _row), result in zip(parsed, results):
            out[i] = {"index": i, "outcome": result.outcome, "errors": result.errors,
                      "warning": next(shown_iter) if result.warning else None}
        counts = {k: sum(1 for r in out if r["outcome"] == k) for k in ("created", "duplicate", "rejected")}
        self.rows_rejected = counts["rejected"]
        return Response({"created": counts["created"], "duplicates": counts["duplicate"],
                         "rejected": counts["rejected"], "results": out})


class WarningView(IntegrationView):
    required_scope = Scope.WARNINGS

    @extend_schema(operation_id="warning_status", responses={200: s.WarningOut, **ERRORS, **NOT_FOUND},
                   summary="A warning's status, by your report ID")
    def get(self, request, report_id):
        warning = get_object_or_404(ViolationWarning.objects.select_related("shop", "rule", "tier", "ticket"),
                                    integration=request.auth, report_id=report_id)
        return Response(_warning_data(warning))


class TicketView(IntegrationView):
    required_scope = Scope.TICKETS

    @extend_schema(operation_id="ticket_status", responses={200: s.TicketOut, **ERRORS, **NOT_FOUND},
                   summary="A ticket's status")
    def get(self, request, number):
        ticket = get_object_or_404(Ticket.objects.select_related("shop", "rule", "tier"), number=number)
        warning = ViolationWarning.objects.filter(ticket=ticket).values_list("number", flat=True).first()
        measures = list(ticket.measures.select_related("ticket").order_by("id"))
        data = s.TicketOut({**{f: getattr(ticket, f) for f in (
            "number", "shop", "rule", "tier", "violation_class", "points", "deposit_amount", "status", "issued_at",
            "appeal_deadline", "revoked_at")}, "warning": warning, "measures": measures}).data
        return Response(data)


class StandingView(IntegrationView):
    required_scope = Scope.STANDING

    @extend_schema(operation_id="shop_standing", responses={200: s.StandingOut, **ERRORS, **NOT_FOUND},
                   summary="A shop's standing: points, nodes, deposit, measures, alliance, certificates")
    def get(self, request, shop_no):
        shop = get_object_or_404(Shop.objects.select_related("controller"), shop_no=shop_no)
        standing = shop_standing(shop)
        certificates = shop_certificates(shop, full=False)
        warnings = ViolationWarning.objects.filter(shop=shop).aggregate(
            open=Count("pk", filter=~Q(status__in=ViolationWarning.DECIDED)))
        data = {
            "shop": shop.shop_no, "status": shop.status, "year": standing.year,
            "points": [{"violation_class": c.violation_class, "points": c.total, "next_node": c.next_threshold}
                       for c in standing.classes],
            "nodes": [{"violation_class": a.violation_class, "threshold": a.node.threshold, "status": a.status}
                      for a in standing.nodes],
            "deposit_balance": shop.deposit_balance, "deposit_required": shop.required_deposit,
            "measures": standing.measures, "alliance": membership_of(shop).status,
            "open_rectification_notices": RectificationNotice.objects.filter(
                shop=shop, status=RectificationNotice.Status.OPEN).count(),
            "certificates_expiring": certificates.expiring, "open_warnings": warnings["open"],
        }
        return Response(s.StandingOut(data).data)


class ImportView(IntegrationView):
    required_scope = Scope.IMPORTS
    spec = None

    def post(self, request):
        envelope = s.ImportIn(data=request.data if isinstance(request.data, dict) else {})
        envelope.is_valid(raise_exception=True)
        rows = envelope.validated_data["rows"]
        self.rows_sent = len(rows)
        try:
            result = run_import_rows(self.spec, json_rows(self.spec, rows),
                                     skip_invalid=envelope.validated_data["skip_invalid"])
        except ImportRefused as refused:
            result = refused.args[0]
            self.rows_rejected = result.error_count
            body = error_body(400, "rows_invalid", f"{result.error_count} rows are invalid: nothing was imported. "
                                                   "Correct them, or send skip_invalid=true.")
            body["error"]["rows"] = [{"index": line, "message": message} for line, message in result.errors]
            return Response(body, status=400)
        self.rows_rejected = result.error_count
        return Response({"valid": result.valid, "written": result.written, "shops": result.shops,
                         "error_count": result.error_count,
                         "errors": [{"index": line, "message": message} for line, message in result.errors]})


def _import_request(row_serializer, name):
    return type(name, (drf.Serializer,), {
        "rows": row_serializer(many=True), "skip_invalid": drf.BooleanField(default=False)})


class OrdersImportView(ImportView):
    spec = DAILY_ORDERS

    @extend_schema(operation_id="import_daily_orders", request=_import_request(s.OrdersRowIn, "OrdersImportIn"),
                   responses={200: s.ImportResultOut, **ERRORS}, summary="Import daily paid and gift orders")
    def post(self, request):
        return super().post(request)


class ScoresImportView(ImportView):
    spec = EXPERIENCE_SCORES

    @extend_schema(operation_id="import_experience_scores",
                   request=_import_request(s.ScoresRowIn, "ScoresImportIn"),
                   responses={200: s.ImportResultOut, **ERRORS}, summary="Import daily experience scores")
    def post(self, request):
        return super().post(request)


class QualityView(IntegrationView):
    required_scope = Scope.INSIGHT

    @extend_schema(operation_id="decision_quality", responses={200: s.QualityOut, **ERRORS},
                   summary="Decision quality: tickets issued, appealed, overturned, revoked; appeal decision times",
                   parameters=[OpenApiParameter("year", int, description="Shanghai calendar year; this year if left out"),
                               OpenApiParameter("by", str, enum=["rule", "reviewer", "month"])])
    def get(self, request):
        from compliance.services.insight import BY, decision_quality, quality_year

        by = request.query_params.get("by") if request.query_params.get("by") in BY else "rule"
        year = quality_year(request.query_params.get("year"))
        return Response(s.QualityOut(decision_quality(year=year, by=by)).data)
