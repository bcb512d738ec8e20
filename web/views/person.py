"""A person's home page: the money they have now, what comes in next, and what waits for their decision."""

from typing import Any

from django.utils import timezone
from django.views.generic import TemplateView

from budgets.selectors.personal_budgets import instalments_upcoming
from budgets.selectors.positions import budget_positions_for_holder
from invoicing.models import InvoiceStatus
from invoicing.selectors import invoice_list
from web.views.common import PersonPageMixin

WAITING = (InvoiceStatus.AWAITING_APPROVAL, InvoiceStatus.ON_HOLD)


class PersonHomeView(PersonPageMixin, TemplateView):
    template_name = "web/person/home.html"
    person_tab = "web:person-home"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        positions = budget_positions_for_holder(budget_holder=self.person, on=today)
        currencies = {position.currency for position in positions}
        waiting = invoice_list(user=self.request.user, person=self.person.public_id).filter(
            status__in=WAITING
        )
        context.update(
            today=today,
            positions=positions,
            # A total only when every stream pays in one currency: pounds and euros add up to nothing.
            currency=next(iter(currencies)) if len(currencies) == 1 else None,
            available_total=sum(position.available_minor for position in positions),
            surplus_total=sum(position.surplus_minor for position in positions),
            instalments=instalments_upcoming(budget_holder=self.person, on=today),
            waiting_count=waiting.filter(status=InvoiceStatus.AWAITING_APPROVAL).count(),
            on_hold_count=waiting.filter(status=InvoiceStatus.ON_HOLD).count(),
        )
        return context
