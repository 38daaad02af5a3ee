"""Names kept for callers of the earlier layout (and the tests that import
them): the calendar is ``compliance.calendar``, the SPEC's rules are
``compliance.rules``, and what a ticket would do is read by
``compliance.selectors.assessment``. Nothing is defined here."""

from compliance.calendar import add_working_days, point_year, shanghai, shanghai_day_start
from compliance.calendar import day_ends as shanghai_midnight_after
from compliance.calendar import whole_day_deadline as appeal_deadline
from compliance.rules import strictest
from compliance.selectors.assessment import Consequences, assess
from compliance.selectors.standing import point_totals

__all__ = ["Consequences", "add_working_days", "appeal_deadline", "assess", "point_totals", "point_year", "shanghai",
           "shanghai_day_start", "shanghai_midnight_after", "strictest"]
