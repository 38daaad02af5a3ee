"""Every read of the compliance app, shared by the admin, the portal, the API
and the jobs (STYLE §9, §16), one module per concept. The services import
these; a selector never imports a service (tests/test_dependencies.py).

    compliance.calendar, compliance.rules   (pure: days, SPEC §6.2)
        ↑
    compliance.selectors                    (reads)
        ↑
    compliance.services                     (writes)
        ↑
    admin, portal, api, management commands
"""

from .alliance import (
    Criterion, Eligibility, alliance_eligibility, alliance_summary, counted_closures, materials_rows, membership_of,
    score_trend, settlement_materials,
)
from .assessment import Consequences, assess, charged_today
from .dashboard import Dashboard, dashboard
from .health import HealthPage, health_page, health_revision
from .portal import MerchantScope
from .providers import in_scope, orders_counted, renewal_explanation
from .qualifications import (
    Certificates, MissingPlan, active_requirements, brand_products, covered_products, forget_requirements,
    missing_description, missing_for, missing_groups, missing_plan, missing_qualifications, qualification_tier,
    requirements_now, shop_certificates, valid_certificates,
)
from .shops import add_months, check_reentry, reentry_allowed_from
from .standing import (
    ClassStanding, MerchantHealth, Standing, active_point_nodes, forget_point_nodes, merchant_health, point_totals,
    shop_standing,
)
from .tickets import appeal_block_reason, appeal_days_left, appeal_due, chances, ticket_measures, ticket_timeline
from .warnings import ShopEffect, deadline_text, shop_warnings, warnings_dismiss_preview

__all__ = [
    "Criterion", "Eligibility", "alliance_eligibility", "alliance_summary", "counted_closures", "materials_rows",
    "membership_of", "score_trend", "settlement_materials", "Consequences", "assess", "charged_today", "Dashboard",
    "dashboard", "HealthPage", "health_page", "health_revision", "MerchantScope", "in_scope", "orders_counted", "renewal_explanation", "Certificates", "MissingPlan",
    "active_requirements", "brand_products", "covered_products", "forget_requirements", "missing_description",
    "missing_for", "missing_groups", "missing_plan", "missing_qualifications", "qualification_tier", "requirements_now",
    "shop_certificates", "valid_certificates", "add_months", "check_reentry", "reentry_allowed_from",
    "ClassStanding", "MerchantHealth", "Standing", "active_point_nodes", "forget_point_nodes", "merchant_health",
    "point_totals", "shop_standing", "appeal_block_reason", "appeal_days_left", "appeal_due", "chances",
    "ticket_measures", "ticket_timeline", "ShopEffect", "deadline_text", "shop_warnings", "warnings_dismiss_preview",
]
