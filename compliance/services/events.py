from compliance.models import Event


def record_event(*, shop, action, actor=None, ticket=None, from_status="", to_status="", reason="", data=None,
                 at, integration=None):
    return Event.objects.create(
        shop=shop, ticket=ticket, actor=actor, action=action, from_status=from_status, to_status=to_status,
        reason=reason, data=data or {}, created_at=at, integration=integration,
    )
