from .alliance import AllianceClosure, AllianceMembership
from .background import DailyRun, DailyShard, Job, OutboxEmail, WorkerBeat
from .appeals import Appeal, AppealEvidence
from .claims import Claim
from .base import AppendOnlyModel, EventAction, EventSubject, ViolationClass, Workflow
from .insight import PolicyChange
from .messages import Message
from .policy import PolicySettings
from .reasons import ReasonTemplate
from .providers import PROVIDER_TRANSITIONS, ProviderRequest, RenewalCampaign, RenewalResult
from .qualifications import (
    Qualification, QualificationDocument, QualificationGap, QualificationKind, QualificationRequirement,
    QualificationType, RectificationNotice,
)
from .rules import Option, PointNode, Rule, RuleTier
from .warnings import Integration, IntegrationCall, Scope, ViolationWarning, WarningAnswerFile
from .webhooks import (
    EVENT_TYPES, DeliveryStream, OutboundEvent, Publication, PublishState, WebhookAttempt, WebhookDelivery,
    WebhookSubscription,
)
from .tickets import (
    DepositEntry, Event, Measure, MeasureProduct, NodeApplication, PointEntry, Ticket, TicketEvidence,
)

__all__ = [
    "DailyRun", "DailyShard", "Job", "OutboxEmail", "WorkerBeat", "EVENT_TYPES", "WebhookSubscription", "OutboundEvent", "Publication",
    "PublishState", "WebhookAttempt", "WebhookDelivery", "DeliveryStream",
    "Integration", "IntegrationCall", "Scope", "ViolationWarning", "WarningAnswerFile",
    "PolicyChange", "Message", "ReasonTemplate", "ProviderRequest", "RenewalCampaign", "RenewalResult",
    "AllianceClosure", "AllianceMembership", "Appeal", "AppealEvidence", "Claim",
    "Qualification", "QualificationDocument", "QualificationGap", "QualificationKind", "QualificationRequirement", "QualificationType",
    "RectificationNotice",
    "AppendOnlyModel", "EventAction", "EventSubject", "PROVIDER_TRANSITIONS", "ViolationClass", "Workflow", "PolicySettings", "Option", "PointNode", "Rule", "RuleTier",
    "DepositEntry", "Event", "Measure", "MeasureProduct", "NodeApplication", "PointEntry", "Ticket", "TicketEvidence",
]
