"""Import experience scores 店铺体验分 from the platform's scoring system.

    python manage.py import_experience_scores scores.csv [--skip-invalid]

One row a shop and day: ``shop ID, date (YYYY-MM-DD), score`` (0–100, at most
two decimals); a header row is allowed. The file is read twice, streamed: first
every row is checked and each bad one reported with its line number; a file
with errors imports nothing unless ``--skip-invalid`` (then the good rows are
imported and the bad ones listed). Then the rows are written in batches as
``ShopScore`` (one per shop and day: a second import of the same file changes
nothing, a corrected score replaces the old one), and each touched shop's
current score becomes its latest day's.
"""

import csv
import datetime
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from tqdm import tqdm

from shops.models import Shop, ShopScore

BATCH = 5000
SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = "Import experience scores from a CSV file (shop ID, date, score). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--skip-invalid", action="store_true",
                            help="import the valid rows of a file that has invalid ones")

    def handle(self, *args, file: Path, skip_invalid: bool, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file.")
        progress = sys.stderr.isatty() and options.get("verbosity", 1) > 0
        errors, valid = self.validate_file(file, progress)
        for line, message in errors[:SHOWN_ERRORS]:
            self.stderr.write(f"line {line}: {message}")
        if len(errors) > SHOWN_ERRORS:
            self.stderr.write(f"… and {len(errors) - SHOWN_ERRORS} more invalid rows.")
        if errors and not skip_invalid:
            raise CommandError(f"{len(errors)} invalid row(s): nothing was imported. Correct the file, or import "
                               f"the {valid} valid row(s) with --skip-invalid.")
        written, shops = self.load(file, progress)
        skipped = f", {len(errors)} invalid row(s) skipped" if errors else ""
        self.stdout.write(self.style.SUCCESS(f"{written} score(s) imported for {shops} shop(s){skipped}."))

    def rows(self, file: Path, progress: bool, desc: str):
        """(line number, shop ID, day text, score text) of each data row."""
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            for row in tqdm(reader, unit="row", desc=desc, disable=not progress, mininterval=1):
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                if line == 1 and not row[0].strip().isdigit():
                    continue  # the header
                yield line, row

    def parse(self, row, today):
        """(shop ID, day, score) or raise ValueError with the reason."""
        if len(row) != 3:
            raise ValueError(f"expected 3 columns (shop ID, date, score), found {len(row)}")
        shop_no, day_text, score_text = (cell.strip() for cell in row)
        if not shop_no.isdigit() or not 6 <= len(shop_no) <= 20:
            raise ValueError(f"shop ID {shop_no!r} is not 6 to 20 digits")
        try:
            day = datetime.date.fromisoformat(day_text)
        except ValueError:
            raise ValueError(f"date {day_text!r} is not YYYY-MM-DD") from None
        if day > today:
            raise ValueError(f"date {day} is in the future")
        try:
            score = Decimal(score_text)
        except InvalidOperation:
            raise ValueError(f"score {score_text!r} is not a number") from None
        if not score.is_finite() or not Decimal(0) <= score <= Decimal(100):
            raise ValueError(f"score {score_text} is not between 0 and 100")
        if score.as_tuple().exponent < -2:
            raise ValueError(f"score {score_text} has more than two decimals")
        return shop_no, day, score.quantize(Decimal("0.01"))

    def validate_file(self, file: Path, progress: bool) -> tuple[list, int]:
        today = timezone.localdate()
        errors, seen, valid, pending = [], {}, 0, []

        def flush():
            nonlocal valid
            known = set(Shop.objects.filter(shop_no__in={p[1] for p in pending}).values_list("shop_no", flat=True))
            for line, shop_no, day in pending:
                if shop_no not in known:
                    errors.append((line, f"no shop with ID {shop_no}"))
                elif (shop_no, day) in seen:
                    errors.append((line, f"shop {shop_no} on {day} is also on line {seen[(shop_no, day)]}"))
                else:
                    seen[(shop_no, day)] = line
                    valid += 1
            pending.clear()

        for line, row in self.rows(file, progress, "checking"):
            try:
                shop_no, day, _score = self.parse(row, today)
            except ValueError as exc:
                errors.append((line, str(exc)))
                continue
            pending.append((line, shop_no, day))
            if len(pending) >= BATCH:
                flush()
        flush()
        errors.sort()
        return errors, valid

    def load(self, file: Path, progress: bool) -> tuple[int, int]:
        today = timezone.localdate()
        written, touched, batch = 0, set(), []

        def flush():
            nonlocal written
            ids = dict(Shop.objects.filter(shop_no__in={b[0] for b in batch}).values_list("shop_no", "pk"))
            rows = [ShopScore(shop_id=ids[shop_no], day=day, score=score) for shop_no, day, score in batch
                    if shop_no in ids]
            with transaction.atomic():
                # One statement a batch: a new day is inserted, a known one takes the file's score.
                ShopScore.objects.bulk_create(rows, update_conflicts=True, unique_fields=["shop", "day"],
                                              update_fields=["score"])
                shop_ids = {row.shop_id for row in rows}
                latest = ShopScore.objects.filter(shop=OuterRef("pk")).order_by("-day").values("score")[:1]
                Shop.objects.filter(pk__in=shop_ids).update(experience_score=Subquery(latest))
            written += len(rows)
            touched.update(shop_ids)
            batch.clear()

        seen = set()
        for _line, row in self.rows(file, progress, "importing"):
            try:
                shop_no, day, score = self.parse(row, today)
            except ValueError:
                continue  # reported by the check
            if (shop_no, day) in seen:
                continue  # a duplicate line: the first one counts, as the check said
            seen.add((shop_no, day))
            batch.append((shop_no, day, score))
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
        return written, len(touched)
