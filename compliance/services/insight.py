"""Names kept for callers of the earlier layout: policy insight only reads,
so it lives in ``compliance.selectors.insight``. Nothing is defined here."""

from compliance.selectors.insight import (  # noqa: F401
    BY, Node, Preview, Tier, decision_quality, flag, node_change_preview, policy_change_preview, preview,
    quality_year, tier_change_preview,
)
