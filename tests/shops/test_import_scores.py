"""import_experience_scores: streamed, line-numbered errors, all or nothing
unless --skip-invalid, history kept, idempotent."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from shops.models import Shop, ShopScore
from tests.factories import make_shop

pytestmark = pytest.mark.django_db


def run(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_experience_scores", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path, text):
    path = tmp_path / "scores.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_imports_history_and_the_latest_becomes_current(tmp_path):
    a, b = make_shop(), make_shop()
    path = write(tmp_path, f"shop_id,date,score\n{a.shop_no},2026-11-01,72.50\n{a.shop_no},2026-11-02,69.90\n"
                           f"{b.shop_no},2026-11-02,88\n")
    out, _err = run(path)
    assert "3 score(s) imported for 2 shop(s)" in out
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.experience_score == Decimal("69.90") and b.experience_score == Decimal("88.00")
    assert ShopScore.objects.filter(shop=a).count() == 2
    before = list(ShopScore.objects.values_list("shop_id", "day", "score", "imported_at"))
    run(path)  # the same file again changes nothing
    assert list(ShopScore.objects.values_list("shop_id", "day", "score", "imported_at")) == before
    # An older day imported later does not replace the current (latest) score.
    run(write(tmp_path, f"{a.shop_no},2026-10-01,99.00\n"))
    a.refresh_from_db()
    assert a.experience_score == Decimal("69.90")


def test_a_corrected_score_replaces_the_day(tmp_path):
    a = make_shop()
    run(write(tmp_path, f"{a.shop_no},2026-11-02,70.00\n"))
    run(write(tmp_path, f"{a.shop_no},2026-11-02,70.50\n"))
    assert list(ShopScore.objects.values_list("score", flat=True)) == [Decimal("70.50")]


def test_errors_name_their_lines_and_nothing_is_imported(tmp_path):
    a = make_shop()
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    path = write(tmp_path, "\n".join([
        "shop_id,date,score",
        f"{a.shop_no},2026-11-01,80",          # 2: fine
        "99999999,2026-11-01,80",              # 3: no such shop
        f"{a.shop_no},2026-13-01,80",          # 4: bad date
        f"{a.shop_no},2026-11-02,80.123",      # 5: three decimals
        f"{a.shop_no},2026-11-03,101",         # 6: out of range
        f"{a.shop_no},{future},80",            # 7: future
        f"{a.shop_no},2026-11-01,81",          # 8: duplicate of line 2
        f"{a.shop_no},2026-11-04",             # 9: two columns
        f"{a.shop_no},2026-11-05,abc",         # 10: not a number
        f"{a.shop_no},2026-11-06,NaN",         # 11: not finite
    ]) + "\n")
    with pytest.raises(CommandError, match="9 invalid row"):
        run(path)
    assert not ShopScore.objects.exists()
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_experience_scores", str(path), stderr=err)
    lines = err.getvalue()
    for expected in ("line 3: no shop with ID 99999999", "line 4: date '2026-13-01'", "line 5: score 80.123 has more",
                     "line 6: score 101 is not between", "line 7:", "line 8: shop", "also on line 2",
                     "line 9: expected 3 columns", "line 10: score 'abc'", "line 11:"):
        assert expected in lines, expected
    out, _err = run(path, "--skip-invalid")
    assert "1 score(s) imported" in out and "9 invalid row(s) skipped" in out
    assert Shop.objects.get(pk=a.pk).experience_score == Decimal("80.00")


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope.csv")


def test_queries_are_per_batch_not_per_row(tmp_path, django_assert_max_num_queries):
    shops = [make_shop() for _ in range(30)]
    path = write(tmp_path, "".join(f"{s.shop_no},2026-11-{d:02d},{70 + d}.5\n" for s in shops for d in range(1, 11)))
    with django_assert_max_num_queries(12):
        out, _err = run(path)
    assert "300 score(s) imported for 30 shop(s)" in out
