"""A user's jobs (SPEC §10): the page that follows one (a progress bar that
polls, no websockets), its result, "My jobs", and the upload page for the
daily score and order imports. A job is its user's alone: every view looks
it up with ``user=request.user`` (another user's job is not found)."""

import csv
import io
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.admin.qualifications import issue_form_context
from compliance.admin.warnings import ManyForm
from compliance.models import Job, PointNode, PolicySettings, QualificationGap, Rule, ViolationWarning
from compliance.admin.base import start_job
from shops.admin_base import valid_pk
from shops.importing import DAILY_ORDERS, EXPERIENCE_SCORES

Kind, Status = Job.Kind, Job.Status
PREVIEWS = {Kind.NODE_PREVIEW: "node", Kind.RULE_PREVIEW: "rule"}
PREVIEW_MODELS = {Kind.NODE_PREVIEW: PointNode, Kind.RULE_PREVIEW: Rule}
IMPORTS = {"scores": (Kind.SCORE_IMPORT, EXPERIENCE_SCORES), "orders": (Kind.ORDER_IMPORT, DAILY_ORDERS)}
IMPORT_PERMISSION = "compliance.import_daily"


def _mine(request, pk) -> Job:
    if not valid_pk(Job, pk):  # a number no ID column holds: not found, not a database error
        raise Http404
    return get_object_or_404(Job, pk=pk, user=request.user)


def jobs_view(admin_site):
    def view(request):
        page = Paginator(Job.objects.filter(user=request.user).order_by("-created_at", "-id"), 50).get_page(
            request.GET.get("p"))
        context = {**admin_site.each_context(request), "title": _("My jobs"), "page": page}
        return TemplateResponse(request, "admin/compliance/jobs/list.html", context)
    return view


def job_view(admin_site):
    def view(request, pk):
        job = _mine(request, pk)
        context = {**admin_site.each_context(request), "job": job, "title": str(job),
                   "progress_url": reverse("admin:job_progress", args=[job.pk])}
        if job.kind in PREVIEWS and job.status == Status.DONE:
            # The preview's own page, as before it became a job: the effect, then the save button.
            return TemplateResponse(request, "admin/compliance/insight/preview.html", {
                **context, "opts": PREVIEW_MODELS[job.kind]._meta, "effect_html": mark_safe(job.result["html"]), "kind": PREVIEWS[job.kind],  # noqa: S308 (rendered by compliance.jobs from our template, escaped there)
                "carried": job.params.get("carried", []), "save_url": job.params.get("save_url", ""),
                "reason": job.params.get("reason", ""), "errors": [], "job": job})
        if job.kind == Kind.WARNING_PREVIEW and job.status == Status.DONE:
            # The bulk decision's page: the preview, then the form that decides (as a job again).
            confirm = job.result["confirm"]
            return TemplateResponse(request, "admin/compliance/violationwarning/decide_many.html", {
                **context, "opts": ViolationWarning._meta, "effect_html": mark_safe(job.result["html"]),  # noqa: S308 (rendered by compliance.jobs from our template, escaped there)
                "count": job.result["count"], "confirm": confirm, "form": ManyForm(confirm=confirm),
                "ids": ",".join(str(pk) for pk in job.params["ids"]), "decision": job.params["decision"],
                "decide_url": reverse("admin:compliance_violationwarning_decide_many"),
                "title": _("Confirm warnings") if confirm else _("Dismiss warnings")})
        if job.kind == Kind.MISSING_PREVIEW and job.status == Status.DONE and not job.result.get("none_left"):
            # The issue page: the preview, then its forms (recalculate, issue: a job again when large).
            p = job.params
            return TemplateResponse(request, "admin/compliance/qualificationgap/issue.html", {
                **context, "opts": QualificationGap._meta, "effect_html": mark_safe(job.result["html"]),  # noqa: S308 (rendered by compliance.jobs from our template, escaped there)
                "token": p["token"], "title": _("Issue tickets for missing certificates"),
                **issue_form_context(job.result["ids"], p["complaint"], p["serious"], job.result["effects"],
                                     job.result.get("clearing", []))})
        return TemplateResponse(request, "admin/compliance/jobs/detail.html", context)
    return view


def job_progress(request, pk):
    """What the job page polls once a second."""
    job = _mine(request, pk)
    return JsonResponse({"status": job.status, "status_display": job.get_status_display(), "done": job.done,
                         "total": job.total, "percent": job.percent,
                         "finished": job.status in (Status.DONE, Status.FAILED)})


def job_file(request, pk):
    job = _mine(request, pk)
    if job.status != Status.DONE or not job.file or not Path(job.file).is_file():
        raise Http404
    response = FileResponse(open(job.file, "rb"), as_attachment=True,
                            filename=(job.result or {}).get("name") or Path(job.file).name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), widget=forms.RadioSelect, choices=[
        ("scores", gettext_lazy("Experience scores: shop ID, date, score")),
        ("orders", gettext_lazy("Daily orders: shop ID, date, orders, paid gift orders")),
    ])
    file = forms.FileField(label=gettext_lazy("CSV file (UTF-8)"))
    skip_invalid = forms.BooleanField(label=gettext_lazy("Import the valid rows when some are invalid"),
                                      required=False)

    def clean(self):
        """The file is checked by its structure before it is kept: UTF-8 text,
        CSV rows of the expected width (the header may be there or not)."""
        data = super().clean()
        upload, kind = data.get("file"), data.get("kind")
        if upload is None or kind not in IMPORTS:
            return data
        limit = PolicySettings.load().upload_max_bytes
        if upload.size > limit:
            raise forms.ValidationError(_("The file is larger than %(mb)d MB.") % {"mb": limit // 1_000_000})
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text: save it from the spreadsheet as "
                                          "\"CSV UTF-8\".")) from None
        if "\x00" in text:
            raise forms.ValidationError(_("The file is not a CSV file."))
        rows = [row for row in csv.reader(io.StringIO(text[:100_000])) if any(cell.strip() for cell in row)][:5]
        width = IMPORTS[kind][1].width
        if not rows or any(len(row) != width for row in rows[1:]) or len(rows[0]) != width:
            raise forms.ValidationError(_("Each row must have %(n)d columns separated by commas.") % {"n": width})
        data["raw"] = raw
        return data


def import_view(admin_site):
    def view(request):
        if not request.user.has_perm(IMPORT_PERMISSION):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            folder = Path(settings.PRIVATE_MEDIA_ROOT) / "imports"
            folder.mkdir(parents=True, exist_ok=True)
            stored = folder / f"{uuid.uuid4().hex}.csv"
            stored.write_bytes(form.cleaned_data["raw"])
            kind, _spec = IMPORTS[form.cleaned_data["kind"]]
            name = Path(form.cleaned_data["file"].name).name[:200]
            return start_job(request, kind=kind, title=name, params={
                "path": str(stored), "name": name, "skip_invalid": form.cleaned_data["skip_invalid"]})
        context = {**admin_site.each_context(request), "title": _("Import scores or orders"), "form": form}
        return TemplateResponse(request, "admin/compliance/jobs/import.html", context)
    return view


def urls(admin_site) -> list:
    wrap = admin_site.admin_view
    return [
        path("jobs/", wrap(jobs_view(admin_site)), name="jobs"),
        path("jobs/<int:pk>/", wrap(job_view(admin_site)), name="job"),
        path("jobs/<int:pk>/progress/", wrap(job_progress), name="job_progress"),
        path("jobs/<int:pk>/file/", wrap(job_file), name="job_file"),
        path("imports/", wrap(import_view(admin_site)), name="imports"),
    ]
