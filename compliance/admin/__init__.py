"""Thin admin: lists, filters, read-only ledgers, and custom views that call
services (STYLE §5–§7)."""

from . import alliance, appeals, catalogue, ledgers, providers, qualifications, shops, tickets, warnings  # noqa: F401
