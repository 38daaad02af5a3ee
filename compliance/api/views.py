"""The integration API, version 1 (SPEC §12). Every call is logged against
its integration (IntegrationCall) and every write it causes names the
integration in the event trail. Every answer a client can get is declared in
the schema: the success shape, each error status with the one error shape,
and each enum."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.models import (
    IntegrationCall, RectificationNotice, Scope, Ticket, ViolationWarning, WebhookSubscription,
)
from compliance.selectors import shop_certificates, shop_standing
from compliance.selectors.alliance import membership_of
from compliance.selectors.insight import decision_quality
from compliance.selectors.outbound import FEED_PAGE, events_after
from compliance.services.warnings import warnings_receive
from compliance.services.webhooks import webhook_change, webhook_delete, webhook_rotate_secret, webhook_subscribe
from shops.importing import DAILY_ORDERS, EXPERIENCE_SCORES, ImportRefused, json_rows, run_import_rows
from shops.models import Shop

from . import limits
from . import serializers as s
from .errors import error_body
from .fields import flat_errors


def _errors(*codes) -> dict:
    texts = {400: "Invalid input, or a body that is not JSON within the limits",
             401: "No key, or an unknown or revoked key", 403: "The key lacks the scope",
             404: "Not found", 405: "Method not allowed (the Allow header lists the methods)",
             413: f"Body larger than {limits.MAX_BODY_MB} MB", 415: "Body is not application/json",
             429: "Too many requests: see Retry-After"}
    return {code: OpenApiResponse(s.ErrorOut, description=texts[code]) for code in codes}


READ_ERRORS = _errors(401, 403, 404, 405, 429)
WRITE_ERRORS = _errors(400, 401, 403, 405, 413, 415, 429)


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


def _envelope(request, key: str, most: int) -> list:
    """The body's list under ``key``, 1 to ``most`` items, else a 400."""
    rows = request.data.get(key) if isinstance(request.data, dict) else None
    if not isinstance(rows, list) or not 1 <= len(rows) <= most:
        raise ValidationError({key: [_("Send {\"%(key)s\": [...]} with 1 to %(n)s items.")
                                     % {"key": key, "n": f"{most:,}"}]})
    return rows


class WarningBatchView(IntegrationView):
    required_scope = Scope.WARNINGS

    @extend_schema(
        operation_id="warnings_submit", request=s.WarningBatchIn, responses={200: s.BatchResultOut, **WRITE_ERRORS},
        summary="Submit violation warnings",
        description=f"One to {limits.BATCH_LIMIT:,} warnings, at most {limits.MAX_BODY_MB} MB as compact UTF-8 JSON "
                    f"(a full batch at every cap), nested at most {limits.MAX_JSON_DEPTH} levels. Each row is "
                    "checked on its own: valid rows are written, invalid ones come back rejected with their index "
                    "and reasons (200), a report ID received before comes back as that warning, unchanged. A "
                    "resubmitted batch gives every row the outcome it had the first time.")
    def post(self, request):
        rows = _envelope(request, "warnings", limits.BATCH_LIMIT)
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
                shape_errors[i] = flat_errors(exc.detail)
        results = warnings_receive(integration=request.auth, rows=[row for _i, row in parsed],
                                   indexes=[i for i, _row in parsed])
        shown = s.WarningOut([r.warning for r in results if r.warning], many=True).data
        out = [None] * len(rows)
        for i, errors in shape_errors.items():
            out[i] = {"index": i, "outcome": "rejected", "warning": None, "errors": errors}
        shown_iter = iter(shown)
        for result in results:
            out[result.index] = {"index": result.index, "outcome": result.outcome, "errors": result.errors,
                                 "warning": next(shown_iter) if result.warning else None}
        counts = {k: sum(1 for r in out if r["outcome"] == k) for k in ("created", "duplicate", "rejected")}
        self.rows_rejected = counts["rejected"]
        return Response({"created": counts["created"], "duplicates": counts["duplicate"],
                         "rejected": counts["rejected"], "results": out})


class WarningView(IntegrationView):
    required_scope = Scope.WARNINGS

    @extend_schema(operation_id="warning_status", responses={200: s.WarningOut, **READ_ERRORS},
                   summary="A warning's status, by your report ID")
    def get(self, request, report_id):
        warning = get_object_or_404(ViolationWarning.objects.select_related("shop", "rule", "tier", "ticket"),
                                    integration=request.auth, report_id=report_id)
        return Response(s.WarningOut(warning).data)


class TicketView(IntegrationView):
    required_scope = Scope.TICKETS

    @extend_schema(operation_id="ticket_status", responses={200: s.TicketOut, **READ_ERRORS},
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

    @extend_schema(operation_id="shop_standing", responses={200: s.StandingOut, **READ_ERRORS},
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
    """Rows of the CSV importers as JSON: each row's types are checked here
    (the schema's), its values by the importer, with the files' checks."""

    required_scope = Scope.IMPORTS
    spec = None
    row = None

    def post(self, request):
        rows = _envelope(request, "rows", limits.IMPORT_ROWS_MAX)
        skip_invalid = request.data.get("skip_invalid", False)
        if not isinstance(skip_invalid, bool):
            raise ValidationError({"skip_invalid": [_("Must be true or false.")]})
        self.rows_sent = len(rows)
        checker = self.row()
        typed, refused = [], []
        for i, row in enumerate(rows):
            try:
                checker.run_validation(row)
            except ValidationError as exc:
                refused.append((i, "; ".join(f"{field}: {' '.join(messages)}"
                                             for field, messages in flat_errors(exc.detail).items())))
            else:
                typed.append(i)
        allowed = set(typed)
        numbered = [pair for pair in json_rows(self.spec, rows) if pair[0] in allowed]
        try:
            result = run_import_rows(self.spec, numbered, skip_invalid=skip_invalid, errors_before=refused)
        except ImportRefused as exc:
            result = exc.args[0]
            self.rows_rejected = result.error_count
            body = error_body(400, "rows_invalid", _("%(n)d rows are invalid: nothing was imported. Correct them, "
                                                     "or send skip_invalid=true.") % {"n": result.error_count})
            body["error"]["rows"] = _row_errors(result)
            return Response(body, status=400)
        self.rows_rejected = result.error_count
        return Response({"valid": result.valid, "written": result.written, "shops": result.shops,
                         "error_count": result.error_count, "errors": _row_errors(result)})


def _row_errors(result) -> list[dict]:
    return [{"index": index, "message": message} for index, message in result.errors]


class OrdersImportView(ImportView):
    spec, row = DAILY_ORDERS, s.OrdersRowIn

    @extend_schema(operation_id="import_daily_orders", request=s.OrdersImportIn,
                   responses={200: s.ImportResultOut, **WRITE_ERRORS}, summary="Import daily paid and gift orders",
                   description=f"1 to {limits.IMPORT_ROWS_MAX:,} rows. A row that is not valid, or names a shop "
                               "that does not exist, refuses the whole import (400, code rows_invalid, the rows "
                               "with their index and reason) unless skip_invalid is true.")
    def post(self, request):
        return super().post(request)


class ScoresImportView(ImportView):
    spec, row = EXPERIENCE_SCORES, s.ScoresRowIn

    @extend_schema(operation_id="import_experience_scores", request=s.ScoresImportIn,
                   responses={200: s.ImportResultOut, **WRITE_ERRORS}, summary="Import daily experience scores",
                   description=f"1 to {limits.IMPORT_ROWS_MAX:,} rows; invalid rows as for daily orders.")
    def post(self, request):
        return super().post(request)


class QualityView(IntegrationView):
    required_scope = Scope.INSIGHT

    @extend_schema(operation_id="decision_quality", responses={200: s.QualityOut, **_errors(400, 401, 403, 405, 429)},
                   summary="Decision quality: tickets issued, appealed, overturned, revoked; appeal decision times",
                   parameters=[s.QualityQuery])
    def get(self, request):
        query = s.QualityQuery(data=request.query_params.dict())  # a plain dict: an empty value is refused, not dropped
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or timezone.localdate().year
        return Response(s.QualityOut(decision_quality(year=year, by=query.validated_data["by"])).data)


# Webhooks (SPEC §13) ------------------------------------------------------------------------------

class EventFeedView(IntegrationView):
    required_scope = Scope.WEBHOOKS

    @extend_schema(operation_id="events_feed", responses={200: s.EventPageOut, **_errors(400, 401, 403, 405, 429)},
                   summary="The outbound events, in order, 1,000 a page: for receivers that poll or catch up",
                   parameters=[s.EventsQuery])
    def get(self, request):
        query = s.EventsQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        after = query.validated_data["after"]
        events = events_after(after, FEED_PAGE + 1)
        page = events[:FEED_PAGE]
        return Response({"events": [e.envelope() for e in page], "next": str(page[-1].position if page else after),
                         "has_more": len(events) > FEED_PAGE})


def _webhook_out(subscription, secret=None) -> dict:
    data = {f: getattr(subscription, f) for f in ("id", "url", "events", "status", "created_at",
                                                  "previous_secret_until")}
    if secret is not None:
        return s.WebhookSecretOut({**data, "secret": secret}).data
    return s.WebhookOut(data).data


def _refused(exc: DjangoValidationError):
    """A service's refusal (the URL check, the event types) as the API's 400."""
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})


class WebhookListView(IntegrationView):
    required_scope = Scope.WEBHOOKS

    @extend_schema(operation_id="webhooks_list", responses={200: s.WebhookListOut, **READ_ERRORS},
                   summary="Your webhook subscriptions (without their secrets)")
    def get(self, request):
        rows = (WebhookSubscription.objects.filter(integration=request.auth)
                .exclude(status=WebhookSubscription.Status.DELETED).order_by("id"))
        return Response({"results": [_webhook_out(row) for row in rows]})

    @extend_schema(operation_id="webhooks_create", request=s.WebhookIn,
                   responses={201: s.WebhookSecretOut, **WRITE_ERRORS},
                   summary="Subscribe a URL to event types",
                   description="The answer holds the signing secret: it is shown this once. The URL must be https "
                               "and its host must resolve to public addresses only.")
    def post(self, request):
        body = s.WebhookIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            subscription, secret = webhook_subscribe(integration=request.auth, **body.validated_data)
        except DjangoValidationError as exc:
            raise _refused(exc) from exc
        return Response(_webhook_out(subscription, secret), status=201)


def _own_subscription(request, pk) -> WebhookSubscription:
    """The calling integration's subscription, not deleted; 404 for any other."""
    return get_object_or_404(WebhookSubscription.objects.exclude(status=WebhookSubscription.Status.DELETED),
                             integration=request.auth, pk=pk)


class WebhookView(IntegrationView):
    required_scope = Scope.WEBHOOKS

    @extend_schema(operation_id="webhook_read", responses={200: s.WebhookOut, **READ_ERRORS},
                   summary="One of your webhook subscriptions")
    def get(self, request, pk):
        return Response(_webhook_out(_own_subscription(request, pk)))

    @extend_schema(operation_id="webhook_change", request=s.WebhookChangeIn,
                   responses={200: s.WebhookOut, **WRITE_ERRORS, **_errors(404)},
                   summary="Change the URL or the event types, pause or resume")
    def patch(self, request, pk):
        subscription = _own_subscription(request, pk)
        body = s.WebhookChangeIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            subscription = webhook_change(subscription, integration=request.auth, **body.validated_data)
        except DjangoValidationError as exc:
            raise _refused(exc) from exc
        return Response(_webhook_out(subscription))

    @extend_schema(operation_id="webhook_delete", responses={204: None, **READ_ERRORS},
                   summary="Delete a subscription: no more deliveries")
    def delete(self, request, pk):
        webhook_delete(_own_subscription(request, pk), integration=request.auth)
        return Response(status=204)


class WebhookSecretView(IntegrationView):
    required_scope = Scope.WEBHOOKS

    @extend_schema(operation_id="webhook_rotate_secret", request=None,
                   responses={200: s.WebhookSecretOut, **READ_ERRORS},
                   summary="Replace the signing secret",
                   description="The new secret is shown this once. For 24 hours deliveries carry a signature "
                               "with the old secret as well, so a receiver can switch without missing one.")
    def post(self, request, pk):
        subscription, secret = webhook_rotate_secret(_own_subscription(request, pk), integration=request.auth)
        return Response(_webhook_out(subscription, secret))
