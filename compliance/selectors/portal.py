"""The only way the merchant portal reads data (STYLE §9)."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from compliance.models import (
    AppealEvidence, Message, Qualification, QualificationDocument, Ticket, TicketEvidence, ViolationWarning,
    WarningAnswerFile,
)
from shops.models import Shop


class MerchantScope:
    """The only way the portal reads data (STYLE §9): every queryset is limited
    to the shops the user is a member of, so another shop's ticket, appeal or
    file is simply not found (404), whatever the URL says."""

    def __init__(self, user):
        self.user = user
        # One query for the member's shops: the header's shop switch, the
        # current shop and every scoped queryset use this list.
        self._shops = list(
            Shop.objects.filter(members__user=user, members__user__is_active=True)
            .select_related("controller").order_by("shop_no").distinct()
        )
        self.shop_ids = [shop.pk for shop in self._shops]

    def shops(self) -> list:
        return self._shops

    def shop(self, shop_no: str) -> Shop:
        for shop in self._shops:
            if shop.shop_no == shop_no:
                return shop
        raise Http404

    def tickets(self):
        return Ticket.objects.filter(shop_id__in=self.shop_ids)

    def ticket(self, number: str):
        return get_object_or_404(self.tickets().select_related("shop", "rule"), number=number)

    def ticket_evidence(self):
        return TicketEvidence.objects.filter(ticket__shop_id__in=self.shop_ids)

    def appeal_evidence(self):
        return AppealEvidence.objects.filter(appeal__ticket__shop_id__in=self.shop_ids)

    def warnings(self):
        return ViolationWarning.objects.filter(shop_id__in=self.shop_ids)

    def warning(self, number: str):
        return get_object_or_404(self.warnings().select_related("shop", "rule", "tier", "ticket"), number=number)

    def warning_files(self):
        return WarningAnswerFile.objects.filter(warning__shop_id__in=self.shop_ids)

    def messages(self):
        """The merchant's own messages (a message belongs to a user, not a shop)."""
        return Message.objects.filter(user=self.user)

    def unread_messages(self) -> int:
        return self.messages().filter(read_at=None).count()

    def qualifications(self):
        return Qualification.objects.filter(shop_id__in=self.shop_ids)

    def qualification_documents(self):
        return QualificationDocument.objects.filter(qualification__shop_id__in=self.shop_ids)
