"""Import shops' daily paid orders from the order system (SPEC §9).

    python manage.py import_orders orders.csv [--skip-invalid]

One row a shop and day: ``shop ID, date (YYYY-MM-DD), paid orders, gift
orders`` (whole numbers; the gift orders are among the paid ones). Checked
and written by the shared importer (shops.importing): line-numbered errors,
all or nothing unless ``--skip-invalid``, upsert by shop and day, COPY into a
staging table on PostgreSQL (bench/RESULTS.md: nine million rows).
"""

from shops.importing import DAILY_ORDERS

from ._daily_import import DailyImportCommand


class Command(DailyImportCommand):
    help = "Import daily paid and gift orders from a CSV file (shop ID, date, paid, gift). Idempotent."
    spec = DAILY_ORDERS
    noun = "day(s) of orders"
