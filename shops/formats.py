"""How values are written for people, the same in every app."""

from decimal import Decimal


def money(amount) -> str:
    """One money format everywhere: ¥10,000.00 (SPEC §1: CNY with 2 decimals)."""
    return f"¥{Decimal(amount or 0):,.2f}"
