from django import template

from compliance.wording import money as money_format
from compliance.wording import person as person_name

register = template.Library()


@register.filter
def person(user) -> str:
    """A user's display name (never a bare user name when a name exists)."""
    return person_name(user)


@register.filter
def money(amount) -> str:
    """¥10,000.00 — the one money format of the product."""
    return money_format(amount)
