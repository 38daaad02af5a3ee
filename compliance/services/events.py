from django.contrib.auth import get_user_model

from compliance.models import Event
from compliance.wording import PLATFORM_USERNAME


def platform_actor():
    """The account the platform acts as — the daily job, a preview without a
    reviewer (tickets need an issuer). It cannot log in: no usable password,
    inactive."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=PLATFORM_USERNAME, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def record_event(*, shop, action, actor=None, ticket=None, from_status="", to_status="", reason="", data=None,
                 at, integration=None):
    return Event.objects.create(
        shop=shop, ticket=ticket, actor=actor, action=action, from_status=from_status, to_status=to_status,
        reason=reason, data=data or {}, created_at=at, integration=integration,
    )


def new_numbers(model, prefix: str, day, count: int = 1, *, random_bytes: int = 4) -> list[str]:
    """``count`` fresh numbers ``<prefix><yyyymmdd><random hex>`` that no row
    of ``model`` has yet. Random, so that numbers do not reveal volumes; the
    birthday bound makes a repeat within a busy day likely at scale, so the
    candidates are checked against the table (one indexed query) and drawn
    again until they are new."""
    import secrets

    numbers: set[str] = set()
    while len(numbers) < count:
        candidates = {f"{prefix}{day:%Y%m%d}{secrets.token_hex(random_bytes).upper()}"
                      for _ in range(count - len(numbers))} - numbers
        taken = set(model.objects.filter(number__in=candidates).values_list("number", flat=True))
        numbers |= candidates - taken
    return list(numbers)
