"""Long admin work as jobs (SPEC §10): a big export and an uploaded import
run as tasks; their page follows them and keeps the result for their user
alone."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.models import Event, Job
from shops.models import ShopScore
from tests.factories import fund, issue, make_shop, make_staff
from tests.worker import drain

pytestmark = pytest.mark.django_db


def csv_file(text: str, name="scores.csv", encoding="utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def test_an_export_over_the_limit_is_a_job_whose_file_only_its_user_downloads(client, reviewer, settings):
    settings.EXPORT_IN_REQUEST_ROWS = 2
    shop = fund(make_shop(), 100000)
    numbers = {issue(shop, "false_advertising", "serious", reviewer).number for _ in range(3)}
    client.force_login(reviewer)
    small = client.get("/admin/compliance/ticket/export/csv/", {"q": sorted(numbers)[0]})
    assert small.status_code == 200 and small.streaming  # within the limit: streamed as before
    started = client.get("/admin/compliance/ticket/export/xlsx/", {"violation_class__exact": "A"})
    job = Job.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/admin/jobs/{job.pk}/"
    assert (job.user, job.kind, job.status) == (reviewer, Job.Kind.TICKET_EXPORT, Job.Status.QUEUED)
    drain()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.result["rows"] == 3
    page = client.get(started["Location"]).content.decode()
    assert f"/admin/jobs/{job.pk}/file/" in page
    download = client.get(f"/admin/jobs/{job.pk}/file/")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == numbers
    # Who exported is in the journal.
    assert list(Event.objects.filter(subject=Event.Subject.JOB, subject_id=job.pk).order_by("id").values_list(
        "action", "actor")) == [("job_started", reviewer.pk), ("job_done", reviewer.pk)]
    # Another user — another reviewer, even a superuser — finds no such job.
    for other in (make_staff("other-reviewer", "Reviewer"), make_superuser()):
        client.force_login(other)
        for url in (f"/admin/jobs/{job.pk}/", f"/admin/jobs/{job.pk}/progress/", f"/admin/jobs/{job.pk}/file/"):
            assert client.get(url).status_code == 404, url
        assert f"/admin/jobs/{job.pk}/" not in client.get("/admin/jobs/").content.decode()


def make_superuser():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root-other", "root@example.com", "x")


def test_scores_uploaded_by_a_compliance_admin_are_imported_by_a_job(client, compliance_admin):
    shop = make_shop()
    day = timezone.localdate().isoformat()
    client.force_login(compliance_admin)
    assert client.get("/admin/imports/").status_code == 200
    started = client.post("/admin/imports/", {"kind": "scores", "file": csv_file(
        f"shop ID,date,score\n{shop.shop_no},{day},88.5\n")})
    job = Job.objects.get()
    assert started.status_code == 302 and job.kind == Job.Kind.SCORE_IMPORT
    drain()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.result["written"] == 1 and not job.result["refused"]
    assert str(ShopScore.objects.get(shop=shop).score) == "88.50"
    assert "1" in client.get(started["Location"]).content.decode()


def test_an_import_with_invalid_rows_reports_them_by_line_and_writes_nothing(client, compliance_admin):
    shop = make_shop()
    day = timezone.localdate().isoformat()
    client.force_login(compliance_admin)
    client.post("/admin/imports/", {"kind": "scores", "file": csv_file(
        f"{shop.shop_no},{day},88\n99999999,{day},70\n{shop.shop_no},2999-01-01,70\n")})
    drain()
    job = Job.objects.get()
    assert job.result["refused"] and job.result["error_count"] == 2
    assert [line for line, _message in job.result["errors"]] == [2, 3]
    page = client.get(f"/admin/jobs/{job.pk}/").content.decode()
    assert "99999999" in page and "2999-01-01" in page
    assert not ShopScore.objects.exists()
    # Asked to, the valid rows go in.
    client.post("/admin/imports/", {"kind": "scores", "skip_invalid": "on", "file": csv_file(
        f"{shop.shop_no},{day},88\n99999999,{day},70\n")})
    drain()
    assert Job.objects.latest("pk").result["written"] == 1 and ShopScore.objects.count() == 1


@pytest.mark.parametrize("content, encoding, message", [
    ("shop,date\n1,2\n", "utf-8", "3"),  # two columns where scores have three
    ("店铺,日期,分数\n20000001,2026-11-01,80\n", "gbk", "UTF-8"),
    ("", "utf-8", ""),
    ("a\x00b,c,d\n", "utf-8", ""),
])
def test_a_file_that_is_not_the_expected_csv_is_refused_before_it_is_kept(client, compliance_admin, content,
                                                                         encoding, message):
    client.force_login(compliance_admin)
    response = client.post("/admin/imports/", {"kind": "scores", "file": csv_file(content, encoding=encoding)})
    assert response.status_code == 200 and not Job.objects.exists()
    assert message in response.content.decode()


def test_only_compliance_admins_upload_imports(client, reviewer, appeal_reviewer):
    for user in (reviewer, appeal_reviewer):
        client.force_login(user)
        assert client.get("/admin/imports/").status_code == 403
        assert client.post("/admin/imports/", {"kind": "scores", "file": csv_file("1,2,3\n")}).status_code == 403
    assert not Job.objects.exists()


def test_my_jobs_lists_mine_newest_first(client, reviewer):
    from compliance.services.jobs import job_start

    first = job_start(user=reviewer, kind=Job.Kind.TICKET_EXPORT, title="第一个导出", params={"fmt": "csv", "query": ""})
    second = job_start(user=reviewer, kind=Job.Kind.TICKET_EXPORT, title="第二个导出", params={"fmt": "csv", "query": ""})
    client.force_login(reviewer)
    page = client.get("/admin/jobs/").content.decode()
    assert page.index(second.title) < page.index(first.title)
