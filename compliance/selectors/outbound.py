"""The event feed (SPEC §13): published events in the order they were
numbered, after a position (the cursor)."""

from compliance.models import OutboundEvent

FEED_PAGE = 1000


def events_after(position: int, limit: int = FEED_PAGE) -> list[OutboundEvent]:
    """Up to ``limit`` events after ``position``, by position (the unique index)."""
    return list(OutboundEvent.objects.filter(position__gt=position).select_related("shop")
                .order_by("position")[:limit])
