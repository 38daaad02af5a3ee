from django.core.management.base import BaseCommand, CommandError

from compliance.models import RenewalCampaign
from compliance.services.providers import renewals_assess
from shops.numbers import whole_number_or_none


class Command(BaseCommand):
    help = ("Assess every service provider in a renewal campaign's scope (SPEC §9) and write the results for "
            "review. Re-running replaces the results that are not confirmed yet.")

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="the campaign's name or id")

    def handle(self, *args, campaign, **options):
        pk = whole_number_or_none(campaign)
        found = RenewalCampaign.objects.filter(name=campaign).first() or (
            RenewalCampaign.objects.filter(pk=pk).first() if pk is not None else None)
        if found is None:
            names = ", ".join(RenewalCampaign.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No campaign {campaign!r}. Campaigns: {names}.")
        results = renewals_assess(campaign=found)
        passed = sum(r.passed for r in results)
        self.stdout.write(self.style.SUCCESS(
            f"{found.name}: {len(results)} provider(s) assessed, {passed} passed, {len(results) - passed} failed."))
