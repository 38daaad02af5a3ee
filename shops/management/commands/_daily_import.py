"""The command both daily imports share (the loader skips modules starting with _)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations

from shops.importing import ImportRefused, progress_wanted, report, run_import


class DailyImportCommand(BaseCommand):
    spec = None
    noun = "row(s)"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--skip-invalid", action="store_true",
                            help="import the valid rows of a file that has invalid ones")

    @no_translations  # an operator's command line: its report is in English, like the rest of its output
    def handle(self, *args, file: Path, skip_invalid: bool, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file.")
        try:
            result = run_import(self.spec, file, skip_invalid=skip_invalid, progress=progress_wanted(options))
        except ImportRefused as refused:
            result = refused.args[0]
            report(self, result)
            raise CommandError(f"{result.error_count} invalid row(s): nothing was imported. Correct the file, or "
                               f"import the {result.valid} valid row(s) with --skip-invalid.") from None
        report(self, result)
        skipped = f", {result.error_count} invalid row(s) skipped" if result.error_count else ""
        self.stdout.write(self.style.SUCCESS(
            f"{result.written} {self.noun} imported for {result.shops} shop(s){skipped}."))
