"""Domain errors. Their messages are written for the person who caused them;
admin and portal views show them with ``messages.error``, never as a 500."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    default_message = _("This action is not allowed.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class ReentryRefused(DomainError):
    default_message = _("This controller may not open a new shop.")


class InvalidTransition(DomainError):
    default_message = _("This change is not allowed in the current status.")


class AppealNotAllowed(DomainError):
    default_message = _("This ticket cannot be appealed now.")


class FourEyesViolation(DomainError):
    default_message = _("You issued this ticket, so another appeal reviewer must decide the appeal.")


class NotPermitted(DomainError):
    default_message = _("You are not allowed to do this.")
