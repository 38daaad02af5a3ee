"""The event feed (SPEC §13): published events in the order they were
numbered, after a position (the cursor)."""

from compliance.models import OutboundEvent
from compliance.models.webhooks import TEST_EVENT_TYPE

FEED_PAGE = 1000


def events_after(position: int, limit: int = FEED_PAGE) -> list[OutboundEvent]:
    """Up to ``limit`` events after ``position``, by position (the unique
    index); an admin's test events are not the platform's and are left out."""
    return list(OutboundEvent.objects.filter(position__gt=position).exclude(type=TEST_EVENT_TYPE)
                .select_related("shop")
                .order_by("position")[:limit])
