"""The compliance side of the shop admin: opening a shop goes through the
re-entry rule (SPEC §3), and a shop's page shows its standing (SPEC §6).

``shops.admin`` registers a plain shop admin that knows only who the parties
are; this module re-registers it with the compliance workflow on top, so that
``shops`` never imports ``compliance`` (dependencies run one way)."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils import timezone

from compliance.exceptions import DomainError
from compliance.selectors import shop_standing, shop_warnings
from compliance.services.shops import check_reentry, shop_create
from shops.admin import ShopAdmin

from shops.models import Shop


class ShopAddForm(forms.ModelForm):
    """The add form checks re-entry before the service does it again under a
    lock, so that the usual refusal is a form error next to the controller."""

    class Meta:
        model = Shop
        fields = "__all__"

    def clean_controller(self):
        controller = self.cleaned_data["controller"]
        try:
            check_reentry(controller)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return controller


admin.site.unregister(Shop)


@admin.register(Shop)
class ComplianceShopAdmin(ShopAdmin):
    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ShopAddForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Creation is a workflow (re-entry, SPEC §3): the service re-checks under
        # a lock and writes the shop; the admin only hands over the form's data.
        data = {f: v for f, v in form.cleaned_data.items() if f != "controller"}
        created = shop_create(controller=form.cleaned_data["controller"], actor=request.user, **data)
        obj.pk = created.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:  # e.g. the controller was barred between form and save
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        shop = self.get_object(request, object_id)
        extra = {"standing": shop_standing(shop)} if shop else {}
        extra["may_issue"] = request.user.has_perm("compliance.add_ticket")
        if shop and request.user.has_perm("compliance.view_violationwarning"):
            extra["warnings"], extra["now"] = shop_warnings(shop), timezone.now()
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})
