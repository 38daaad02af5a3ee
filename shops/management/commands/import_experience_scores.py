"""Import experience scores 店铺体验分 from the platform's scoring system.

    python manage.py import_experience_scores scores.csv [--skip-invalid]

One row a shop and day: ``shop ID, date (YYYY-MM-DD), score`` (0–100, at most
two decimals); a header row is allowed. Checked and written by the shared
importer (shops.importing): every bad row is reported with its line number,
a file with errors imports nothing unless ``--skip-invalid``, a second import
of the same file changes nothing, a corrected score replaces the day, and
each imported shop's current score becomes its latest day's.
"""

from shops.importing import EXPERIENCE_SCORES

from ._daily_import import DailyImportCommand


class Command(DailyImportCommand):
    help = "Import experience scores from a CSV file (shop ID, date, score). Idempotent."
    spec = EXPERIENCE_SCORES
    noun = "score(s)"
