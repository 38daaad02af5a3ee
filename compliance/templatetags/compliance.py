from django import template

from compliance.wording import label_suffix
from shops.formats import count as count_format
from compliance.wording import money as money_format
from compliance.wording import person as person_name

register = template.Library()


@register.filter
def person(user) -> str:
    """A user's display name (never a bare user name when a name exists)."""
    return person_name(user)


@register.filter
def count(n) -> str:
    """2,154 — the one format of a count (orders, tickets); never an ID."""
    return count_format(n)


@register.filter
def money(amount) -> str:
    """¥10,000.00 — the one money format of the product."""
    return money_format(amount)


@register.filter
def evidence_rows(evidence) -> list:
    """A detector's evidence (any JSON) as (name, text) rows for a table:
    nested objects flattened with dotted names, lists joined."""
    rows = []

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value):
            rows.append((prefix, ", ".join(str(v) for v in value)))
        elif isinstance(value, list):
            for i, item in enumerate(value, 1):
                walk(f"{prefix}[{i}]", item)
        else:
            rows.append((prefix or "—", "" if value is None else str(value)))

    walk("", evidence)
    return rows[:200]


@register.filter
def percent(rate) -> str:
    """0.2 → 20.0%; None → —."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


@register.filter
def label(text) -> str:
    """``{{ _("Rule")|label }}``: the label and its suffix ("：" in Chinese, ": " in English)."""
    return f"{text}{label_suffix()}"
