"""Integrations' API keys (SPEC §12): made by a compliance admin, shown once,
kept as a hash; revoked, never deleted (calls and warnings keep naming them)."""

import secrets

from django.utils import timezone

from compliance.models import Integration
from compliance.models.warnings import hash_key

KEY_PREFIX = "ck_"


def key_issue(integration: Integration, *, actor, key: str | None = None) -> str:
    """Give an unsaved integration its key (a fresh one unless ``key``, the
    demo's known one) and its creator; the caller saves it and shows the key
    once."""
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    integration.key_hash, integration.key_prefix, integration.created_by = hash_key(key), key[:10], actor
    return key


def integration_create(*, name: str, actor, scopes, key: str | None = None, **fields) -> tuple[Integration, str]:
    integration = Integration(name=name, scopes=list(scopes), **fields)
    key = key_issue(integration, actor=actor, key=key)
    integration.save()
    return integration, key


def integration_revoke(*, integration: Integration, actor) -> bool:
    """Refuse the key's calls from now on; False if it was already revoked."""
    return bool(Integration.objects.filter(pk=integration.pk, is_active=True).update(
        is_active=False, revoked_by=actor, revoked_at=timezone.now()))
