from django import template

from compliance.wording import money as money_format

register = template.Library()


@register.filter
def money(amount) -> str:
    """¥10,000.00 — the one money format of the product."""
    return money_format(amount)
