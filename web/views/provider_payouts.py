"""A care provider's payouts page, for its own users only (anyone else gets 404): how Purse pays the provider
now (by bank transfer, shown as the sort code and the last four digits of the account only; or through
Stripe Connect, with whether its connected account is ready to be paid), and "Set up payouts through
Stripe", which sends the provider to Stripe's own onboarding and back to a page saying whether it is done.

Without STRIPE_SECRET_KEY Stripe payouts are switched off: the page says so, offers no button, and the
provider is paid by bank transfer. A provider only ever sees its own organisation's details: the provider is
the signed-in user's organisation, never a parameter of the address.
"""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from ledger.errors import DomainError
from payments import stripe_gateway
from payments.services import runs as services
from people import access
from people.models import Organisation, PayoutMethod, ProviderDetails, Role
from web.forms.payment_runs import ConfirmForm


@method_decorator(never_cache, name="dispatch")
class ProviderPageMixin(LoginRequiredMixin):
    """A care provider's users only (404 for anyone else signed in): sets `self.provider`, their own."""

    provider: Organisation

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return self.handle_no_permission()
        organisation = getattr(user, "organisation", None)
        if user.role != Role.PROVIDER_USER or organisation is None or not organisation.is_provider:
            raise Http404("No such page.")
        self.provider = organisation
        return super().dispatch(request, *args, **kwargs)

    def payout_context(self, *, check_stripe: bool = True) -> dict[str, Any]:
        """How the provider is paid now, and (Stripe being on) whether its connected account is ready."""
        details = ProviderDetails.objects.filter(provider=self.provider).first()
        method = details.payout_method if details is not None else PayoutMethod.NONE
        stripe_on = stripe_gateway.stripe_enabled()
        account_id = details.stripe_account_id if details is not None else ""
        ready: bool | None = None
        stripe_problem = ""
        if check_stripe and stripe_on and account_id:
            try:
                ready = stripe_gateway.account_ready(account_id=account_id)
            except (stripe_gateway.StripeUnavailable, stripe_gateway.StripeRefused) as error:
                stripe_problem = error.message
        sort_code = details.sort_code if details is not None else ""
        return {
            "provider": self.provider,
            "method": method,
            "method_label": PayoutMethod(method).label,
            "on_bank": method == PayoutMethod.BANK,
            "on_stripe": method == PayoutMethod.STRIPE,
            "stripe_under_way": bool(account_id) and method != PayoutMethod.STRIPE,
            "sort_code": f"{sort_code[:2]}-{sort_code[2:4]}-{sort_code[4:]}" if len(sort_code) == 6 else "",
            "account_ending": details.account_number[-4:] if details is not None else "",
            "stripe_account": account_id,
            "stripe_on": stripe_on,
            "stripe_ready": ready,
            "stripe_problem": stripe_problem,
            "may_change": access.may(self.request.user, "people.change_organisation", self.provider),
        }


class PayoutsView(ProviderPageMixin, View):
    """How the provider is paid (GET), and the start of Stripe's onboarding (POST: off to Stripe's page)."""

    template_name = "web/provider_payouts/payouts.html"

    def render_page(self, form: ConfirmForm, status: int = 200) -> HttpResponse:
        context = self.payout_context()
        context["form"] = form
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(ConfirmForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        if not access.may(request.user, "people.change_organisation", self.provider):
            raise PermissionDenied("Only the provider's own users may set up how it is paid.")
        form = ConfirmForm(request.POST)
        try:
            # One transaction: if Stripe gives no link, the payout details are left as they were (a
            # connected account Stripe made is found again by its idempotency key on the next try).
            with transaction.atomic():
                link = services.stripe_onboarding_start(
                    provider=self.provider,
                    by=request.user,
                    refresh_url=request.build_absolute_uri(reverse("web:provider-payouts")),
                    return_url=request.build_absolute_uri(reverse("web:provider-payouts-return")),
                )
        except DomainError as error:
            form.add_error(None, error.message)
            return self.render_page(form)
        return HttpResponseRedirect(link)


class PayoutsReturnView(ProviderPageMixin, View):
    """Where Stripe sends the provider back: whether the onboarding is complete, and if not what to do."""

    template_name = "web/provider_payouts/return.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        # Stripe sends the provider back here with a GET: when the account is ready, the provider (who
        # asked for Stripe payouts with a POST) is paid through Stripe from now on. Repeating it changes
        # nothing, and a provider's user who may not change its details only sees where things stand.
        switched = False
        problem = ""
        if access.may(request.user, "people.change_organisation", self.provider):
            try:
                switched = services.stripe_payouts_switch(provider=self.provider, by=request.user).switched
            except DomainError as error:
                problem = error.message
        context = self.payout_context(check_stripe=not problem)
        if problem:
            context["stripe_problem"] = problem
        context["switched"] = switched
        context["form"] = ConfirmForm()
        return render(request, self.template_name, context)
