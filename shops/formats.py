"""How values are written for people, the same in every app."""

from decimal import Decimal


def count(n) -> str:
    """2,154 — one format for a count (orders, tickets), never for an ID; "—" for none."""
    return "—" if n is None else f"{n:,}"


def money(amount) -> str:
    """One money format everywhere: ¥10,000.00 (SPEC §1: CNY with 2 decimals)."""
    return f"¥{Decimal(amount or 0):,.2f}"
