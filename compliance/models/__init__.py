from .appeals import Appeal, AppealEvidence
from .base import AppendOnlyModel, ViolationClass
from .policy import PolicySettings
from .qualifications import (
    MissingQualification, Qualification, QualificationDocument, QualificationKind, QualificationRequirement, QualificationType,
    RectificationNotice,
)
from .rules import Option, PointNode, Rule, RuleTier
from .tickets import (
    DepositEntry, Event, Measure, MeasureProduct, NodeApplication, PointEntry, Ticket, TicketEvidence,
)

__all__ = [
    "Appeal", "AppealEvidence",
    "MissingQualification", "Qualification", "QualificationDocument", "QualificationKind", "QualificationRequirement", "QualificationType",
    "RectificationNotice",
    "AppendOnlyModel", "ViolationClass", "PolicySettings", "Option", "PointNode", "Rule", "RuleTier",
    "DepositEntry", "Event", "Measure", "MeasureProduct", "NodeApplication", "PointEntry", "Ticket", "TicketEvidence",
]
