"""The person's statement for the current budget period, on screen (downloadable statements come later)."""

from typing import Any

from django.utils import timezone
from django.views.generic import TemplateView

from budgets.selectors.movements import movement_rows, statement_for_holder, statement_movements
from web.views.common import PersonPageMixin, paginate


class StatementsView(PersonPageMixin, TemplateView):
    template_name = "web/statements/statements.html"
    person_tab = "web:statements"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        statements = statement_for_holder(budget_holder=self.person, on=today)
        page = paginate(self.request, statement_movements(statements=statements))
        context.update(
            today=today,
            statements=statements,
            page=page,
            movements=movement_rows(postings=list(page.object_list), statements=statements),
        )
        return context
