"""Thin admin: lists, filters, read-only ledgers, and custom views that call
services (STYLE §5–§7)."""

from . import (  # noqa: F401
    alliance, appeals, catalogue, deliveries, ledgers, outbox, providers, qualifications, reasons, shops, tickets,
    warnings,
    webhooks,
)
