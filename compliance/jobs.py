"""What each kind of job does (services.jobs keeps their records). A runner
gets the job and a ``progress(done, total)`` to call, and returns what the
job page shows: ``(result, file)``. Runners are safe to run twice: a
preview and an export only read; an import writes in one transaction.

Everything language-dependent is rendered here in the language of the user
who started the job (``Job.language``)."""

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone, translation

from compliance.admin.tickets import job_export
from compliance.exports import write_export
from compliance.models import Job
from compliance.selectors.insight import node_change_preview, tier_change_preview
from compliance.calendar import shanghai_today
from compliance.selectors.qualifications import missing_plan
from compliance.selectors.warnings import warnings_to_decide
from compliance.services.qualifications import missing_preview, missing_ticket_issue
from compliance.services.warnings import warnings_decide_many, warnings_decision_preview
from compliance.services.jobs import Progress, job_begin, job_fail, job_finish, job_path, objects_of
from shops.importing import DAILY_ORDERS, EXPERIENCE_SCORES, ImportRefused, run_import

Kind = Job.Kind


def _preview_html(result, kind: str) -> dict:
    """The effect as its page shows it, and its sums (for the record)."""
    return {"html": render_to_string("admin/compliance/insight/_effect.html", {"result": result, "kind": kind}),
            "seconds": result.seconds, "shops_changed": result.shops_changed,
            "deposit_more": result.deposit_more, "deposit_less": result.deposit_less,
            "reach": {n.label: n.reach for n in result.nodes}, "leave": {n.label: n.leave for n in result.nodes}}


def node_preview(job: Job, progress) -> tuple[dict, str]:
    (node,) = objects_of(job.params["objects"])
    if not job.params.get("pk"):
        node.pk = None  # a new node: the preview adds it beside the saved ones
    return _preview_html(node_change_preview(node, progress=progress), "node"), ""


def rule_preview(job: Job, progress) -> tuple[dict, str]:
    tiers = objects_of(job.params["objects"])
    return _preview_html(tier_change_preview(job.params["rule_code"], tiers, progress=progress), "rule"), ""


def ticket_export(job: Job, progress) -> tuple[dict, str]:
    """The ticket list's export, as filtered when the job was started."""
    fmt = job.params["fmt"]
    header, rows, total = job_export(job.user, job.params["query"])
    path = job_path(job, f"tickets.{fmt}")
    count = write_export(fmt, path, header=header, rows=rows, progress=lambda done: progress(done, total))
    return {"rows": count, "name": f"tickets-{timezone.localdate():%Y%m%d}.{fmt}"}, str(path)


def warning_preview(job: Job, progress) -> tuple[dict, str]:
    """The bulk decision's preview, as its page shows it (the totals and each
    shop's effect); the page adds the form that decides."""
    context = warnings_decision_preview(warnings=warnings_to_decide(job.params["ids"]), actor=job.user,
                                        confirm=job.params["decision"] == "confirm", progress=progress)
    return {"html": render_to_string("admin/compliance/violationwarning/_decide_many_effect.html", context),
            "count": context["count"], "confirm": context["confirm"]}, ""


def warning_decision(job: Job, progress) -> tuple[dict, str]:
    confirm = job.params["decision"] == "confirm"
    done, refused = warnings_decide_many(warnings=warnings_to_decide(job.params["ids"]), actor=job.user,
                                         confirm=confirm, reason=job.params.get("reason", ""), progress=progress)
    return {"confirm": confirm, "done": len(done), "refused": [[w.number, message] for w, message in refused]}, ""


def _missing_plan(job: Job):
    at = timezone.now()
    return missing_plan(job.params["ids"], today=shanghai_today(at), at=at, complaint=job.params["complaint"],
                        especially_serious=job.params["serious"]), at


def missing_preview_job(job: Job, progress) -> tuple[dict, str]:
    """The missing-certificate tickets' preview, as the issue page shows it;
    the page adds its forms."""
    plan, at = _missing_plan(job)
    if not plan.products:
        return {"html": "", "effects": 0, "none_left": True}, ""
    preview = missing_preview(plan=plan, actor=job.user, now=at)
    html = render_to_string("admin/compliance/qualificationgap/_issue_effect.html",
                            {"preview": preview, "rows": preview.rows})
    return {"html": html, "effects": len(preview.effects), "ids": plan.ids, "none_left": False,
            "clearing": preview.clearing_labels}, ""


def missing_issue_job(job: Job, progress) -> tuple[dict, str]:
    """Issue them. The page's token makes a second run (a worker died after
    issuing) find the tickets already issued, not issue them twice."""
    plan, at = _missing_plan(job)
    tickets, errors = missing_ticket_issue(groups=plan.groups, lacking=plan.lacking, actor=job.user,
                                           token=job.params["token"], now=at) if plan.products else ([], [])
    return {"tickets": [t.number for t in tickets], "errors": [str(e) for e in errors]}, ""


def _import(spec):
    def run(job: Job, progress) -> tuple[dict, str]:
        try:
            result = run_import(spec, Path(job.params["path"]), skip_invalid=job.params.get("skip_invalid", False),
                                report=progress)
            refused = False
        except ImportRefused as exc:
            result, refused = exc.args[0], True
        return {"refused": refused, "written": result.written, "shops": result.shops, "valid": result.valid,
                "error_count": result.error_count, "errors": [[line, str(message)] for line, message in result.errors],
                "name": job.params.get("name", "")}, ""
    return run


RUNNERS = {
    Kind.NODE_PREVIEW: node_preview,
    Kind.RULE_PREVIEW: rule_preview,
    Kind.TICKET_EXPORT: ticket_export,
    Kind.SCORE_IMPORT: _import(EXPERIENCE_SCORES),
    Kind.ORDER_IMPORT: _import(DAILY_ORDERS),
    Kind.WARNING_PREVIEW: warning_preview,
    Kind.WARNING_DECISION: warning_decision,
    Kind.MISSING_PREVIEW: missing_preview_job,
    Kind.MISSING_ISSUE: missing_issue_job,
}


def run(job_id: int) -> str:
    """The ``run_job`` task: begin, run, finish or fail with the reason."""
    job = job_begin(job_id)
    if job is None:
        return "finished already"
    progress = Progress(job)
    with translation.override(job.language):
        try:
            result, file = RUNNERS[job.kind](job, progress)
        except Exception as exc:  # the user reads why in "My jobs"; the worker's log has the traceback
            job_fail(job, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            progress.close()
    job_finish(job, result=result, file=file)
    return job.status

