"""One streaming, validating importer for the daily per-shop figures the
platform's other systems send: experience scores and paid orders.

A file has one row a shop and day: ``shop ID, date, value…``; a header row
is allowed. Each row is parsed as it is read (bad dates, numbers, counts are
errors with their line number) and the good ones go, with their line number,
into a staging table — through COPY on PostgreSQL, in batches elsewhere.
The rest is SQL over the staging table: unknown shops and repeated shop-days
are errors too; a file with errors imports nothing unless ``skip_invalid``;
then one ``INSERT … SELECT … ON CONFLICT (shop, day) DO UPDATE`` writes the
rows (importing a file again changes nothing; a corrected figure replaces the
day). Memory does not grow with the file.
"""

import csv
import datetime
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from tqdm import tqdm

from .identifiers import is_digits, normalize_identifier
from .numbers import EARLIEST_DAY, NumberRefused, whole_number

STAGING = "import_staging"
BATCH = 5000
SHOWN_ERRORS = 50


class ImportRefused(Exception):
    """The file has errors and ``skip_invalid`` was not given: nothing was written."""


@dataclass
class Column:
    name: str
    sql_type: str  # of the staging table: "numeric(5,2)", "integer"
    parse: Callable[[str], object]  # raises ValueError with the reason
    label: object = ""  # as messages name it


def score(text: str) -> Decimal:
    """A score from 0 to 100 with at most two decimals (NFKC, ASCII digits only)."""
    value = unicodedata.normalize("NFKC", text)
    if not re.fullmatch(r"\d+(\.\d+)?", value) or not value.isascii():
        raise ValueError(_("score '%(value)s' is not a number") % {"value": text[:40]})
    if len(value) > 12 or not Decimal(0) <= Decimal(value) <= Decimal(100):
        raise ValueError(_("score %(value)s is not between 0 and 100") % {"value": text[:40]})
    number = Decimal(value)
    if number.as_tuple().exponent < -2:
        raise ValueError(_("score %(value)s has more than two decimals") % {"value": text})
    return number.quantize(Decimal("0.01"))


# The largest daily count a row may carry: no shop takes a hundred million
# orders a day, and every column that stores one holds it (README, API schema).
DAILY_COUNT_MAX = 100_000_000


def count(label) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return whole_number(text, low=0, high=DAILY_COUNT_MAX)
        except NumberRefused:
            raise ValueError(_("%(label)s '%(value)s' is not a whole number from 0 to %(max)s") % {
                "label": label, "value": text[:40], "max": f"{DAILY_COUNT_MAX:,}"}) from None

    return parse


@dataclass
class DailyShopImport:
    """What a file holds and where it goes."""

    table: str  # the target table, with shop_id, day and the columns below
    columns: list[Column]
    insert_only: dict = field(default_factory=dict)  # column -> SQL value, set when the row is new
    check_row: Callable | None = None  # (values) -> None or raise ValueError: checks across columns
    after: Callable | None = None  # (cursor) -> None, run with the staging table still there

    @property
    def width(self) -> int:
        return 2 + len(self.columns)


@dataclass
class Result:
    errors: list  # (line, message), the first SHOWN_ERRORS
    error_count: int
    valid: int
    written: int = 0
    shops: int = 0


def _rows(path: Path, progress: bool, report=None):
    total = 0
    if report is not None:  # a job's progress bar: lines read of lines in the file
        with path.open("rb") as raw:
            total = sum(1 for _line in raw)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for row in tqdm(reader, unit="row", desc=path.name, disable=not progress, mininterval=1):
            if report is not None:
                report(reader.line_num, total)
            if not row or all(not cell.strip() for cell in row):
                continue
            if reader.line_num == 1 and not is_digits(normalize_identifier(row[0])):
                continue  # the header
            yield reader.line_num, row


def _parse(spec: DailyShopImport, row: list[str], today: datetime.date) -> tuple:
    if len(row) != spec.width:
        names = ", ".join([_("shop ID"), _("date"), *(str(c.label) for c in spec.columns)])
        raise ValueError(_("expected %(n)d columns (%(names)s), found %(found)d")
                         % {"n": spec.width, "names": names, "found": len(row)})
    cells = [cell.strip() for cell in row]
    shop_no, day_text = normalize_identifier(cells[0]), cells[1]
    if not is_digits(shop_no) or not 6 <= len(shop_no) <= 20:
        raise ValueError(_("shop ID '%(value)s' is not 6 to 20 digits") % {"value": cells[0][:40]})
    try:
        day = datetime.date.fromisoformat(day_text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day_text, re.ASCII) else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(_("date '%(value)s' is not YYYY-MM-DD") % {"value": day_text[:40]})
    if day > today:
        raise ValueError(_("date %(day)s is in the future") % {"day": day})
    if day < EARLIEST_DAY:
        raise ValueError(_("date %(day)s is before %(earliest)s") % {"day": day, "earliest": EARLIEST_DAY})
    values = tuple(column.parse(text) for column, text in zip(spec.columns, cells[2:]))
    if spec.check_row:
        spec.check_row(values)
    return (shop_no, day, *values)


def run_import(spec: DailyShopImport, path: Path, *, skip_invalid: bool = False, progress: bool = False,
               report=None) -> Result:
    """Import ``path`` as ``spec`` says, in one transaction. Raises
    ImportRefused (with the result) when the file has errors and
    ``skip_invalid`` is not set; nothing is written then. ``report(line,
    lines)`` hears how far the reading got (an admin job's progress)."""
    return run_import_rows(spec, _rows(path, progress, report), skip_invalid=skip_invalid)


def json_rows(spec: DailyShopImport, rows: list) -> list:
    """The API's rows (objects with shop, day and the columns) as numbered
    cells for ``run_import_rows``, numbered from 0: the same checks as a file."""
    names = ["shop", "day", *(c.name for c in spec.columns)]

    def cell(value):
        return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    return [(i, [cell(row.get(n)) for n in names] if isinstance(row, dict) else []) for i, row in enumerate(rows)]


def run_import_rows(spec: DailyShopImport, numbered_rows, *, skip_invalid: bool = False,
                    errors_before=()) -> Result:
    """``run_import`` over ``(line, cells)`` pairs from any source;
    ``errors_before`` are ``(line, message)`` pairs a caller already refused
    (the API's type checks): they count like the importer's own."""
    today = timezone.localdate()
    errors, staged = list(errors_before)[:SHOWN_ERRORS * 4], 0
    error_count = len(errors_before)

    def error(line, message):
        nonlocal error_count
        error_count += 1
        if len(errors) < SHOWN_ERRORS * 4:
            errors.append((line, message))

    names = ["line", "shop_no", "day", *(c.name for c in spec.columns)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        types = ", ".join(f"{c.name} {c.sql_type}" for c in spec.columns)
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGING} (line integer, shop_no varchar(20), day date, {types})")
        parsed = ((line, *_parse_or_none(spec, row, today, line, error)) for line, row in numbered_rows)
        staged = _stage(cursor, names, (row for row in parsed if len(row) > 1))
        cursor.execute(f"CREATE INDEX {STAGING}_key ON {STAGING} (shop_no, day, line)")
        # Unknown shops and repeated shop-days, found by SQL over the staged rows.
        cursor.execute(f"SELECT st.line, st.shop_no FROM {STAGING} st LEFT JOIN shops_shop s ON s.shop_no = st.shop_no "
                       f"WHERE s.id IS NULL ORDER BY st.line")
        unknown = cursor.fetchall()
        for line, shop_no in unknown:
            error(line, _("no shop with ID %(shop)s") % {"shop": shop_no})
        cursor.execute(f"SELECT line, shop_no, day, first FROM (SELECT line, shop_no, day, MIN(line) OVER "
                       f"(PARTITION BY shop_no, day) AS first FROM {STAGING}) t WHERE line > first ORDER BY line")
        repeats = cursor.fetchall()
        for line, shop_no, day, first in repeats:
            error(line, _("shop %(shop)s on %(day)s is also on line %(first)d") % {"shop": shop_no, "day": day,
                                                                                    "first": first})
        refused = {line for line, *_rest in unknown} | {line for line, *_rest in repeats}
        result = Result(errors=sorted(errors)[:SHOWN_ERRORS], error_count=error_count, valid=staged - len(refused))
        if error_count and not skip_invalid:
            cursor.execute(f"DROP TABLE {STAGING}")
            raise ImportRefused(result)
        # One statement writes every good row: the first line of a shop-day wins.
        value_names = [c.name for c in spec.columns]
        insert_names = ["shop_id", "day", *value_names, *spec.insert_only]
        selected = ["s.id", "st.day", *(f"st.{n}" for n in value_names), *spec.insert_only.values()]
        updates = ", ".join(f"{n} = excluded.{n}" for n in value_names)
        changed = " OR ".join(f"{spec.table}.{n} IS DISTINCT FROM excluded.{n}" for n in value_names) \
            if connection.vendor == "postgresql" else " OR ".join(f"{spec.table}.{n} IS NOT excluded.{n}"
                                                                  for n in value_names)
        cursor.execute(
            f"INSERT INTO {spec.table} ({', '.join(insert_names)}) "
            f"SELECT {', '.join(selected)} FROM {STAGING} st JOIN shops_shop s ON s.shop_no = st.shop_no "
            f"WHERE NOT EXISTS (SELECT 1 FROM {STAGING} d WHERE d.shop_no = st.shop_no AND d.day = st.day "
            f"AND d.line < st.line) "
            f"ON CONFLICT (shop_id, day) DO UPDATE SET {updates} WHERE {changed}")
        result.written = max(cursor.rowcount, 0)
        cursor.execute(f"SELECT COUNT(DISTINCT st.shop_no) FROM {STAGING} st JOIN shops_shop s "
                       f"ON s.shop_no = st.shop_no")
        result.shops = cursor.fetchone()[0]
        if spec.after:
            spec.after(cursor)
        cursor.execute(f"DROP TABLE {STAGING}")
    return result


def _parse_or_none(spec, row, today, line, error) -> tuple:
    try:
        return _parse(spec, row, today)
    except ValueError as exc:
        error(line, str(exc))
        return ()


def _stage(cursor, names: list[str], rows) -> int:
    """Rows into the staging table: COPY on PostgreSQL, batches elsewhere."""
    staged = 0
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {STAGING} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                staged += 1
        return staged
    insert = f"INSERT INTO {STAGING} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})"
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            cursor.executemany(insert, batch)
            staged += len(batch)
            batch = []
    if batch:
        cursor.executemany(insert, batch)
        staged += len(batch)
    return staged


def report(command, result: Result) -> None:
    """Print a management command's outcome: errors by line, then the count."""
    for line, message in result.errors:
        command.stderr.write(f"line {line}: {message}")
    if result.error_count > len(result.errors):
        command.stderr.write(f"… and {result.error_count - len(result.errors)} more invalid rows.")


def progress_wanted(options) -> bool:
    return sys.stderr.isatty() and options.get("verbosity", 1) > 0


# What the platform's systems send -------------------------------------------------------------

def _current_scores(cursor) -> None:
    """Each imported shop's current score is its latest day's."""
    cursor.execute(
        "UPDATE shops_shop SET experience_score = (SELECT x.score FROM shops_shopscore x "
        "WHERE x.shop_id = shops_shop.id ORDER BY x.day DESC LIMIT 1) "
        f"WHERE shop_no IN (SELECT DISTINCT shop_no FROM {STAGING})")


def _gifts_within_paid(values) -> None:
    paid, gifts = values
    if gifts > paid:
        raise ValueError(_("gift orders (%(gifts)d) exceed paid orders (%(paid)d)") % {"gifts": gifts, "paid": paid})


EXPERIENCE_SCORES = DailyShopImport(
    table="shops_shopscore", columns=[Column("score", "numeric(5,2)", score, gettext_lazy("score"))],
    insert_only={"imported_at": "CURRENT_TIMESTAMP"}, after=_current_scores)

DAILY_ORDERS = DailyShopImport(
    table="shops_shopdailyorders",
    columns=[Column("paid_orders", "integer", count(gettext_lazy("paid orders")), gettext_lazy("paid orders")),
             Column("gift_orders", "integer", count(gettext_lazy("gift orders")), gettext_lazy("gift orders"))],
    check_row=_gifts_within_paid)
