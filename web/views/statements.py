"""The person's statements: the statement for any period on screen (a recent month, or dates of one's own),
the same statement as a tagged PDF, and the statements issued to them (each PDF exactly as it was issued).

Everyone who sees the person's pages sees these (`PersonPageMixin`): they only read. The period comes from
the period form (`?show=month&month=2026-11`, or `?show=dates&from_day=...`) or, as in the API and the PDF
link, from `?from=2026-11-01&to=2026-11-30`; with neither it is the current month. A period that cannot be
read, or that the domain refuses (`statements.period.PeriodInvalid`), shows the form with a GOV.UK error
summary and nothing else.
"""

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views import View
from django.views.generic import TemplateView

from statements import selectors
from statements.models import IssuedStatement, StatementKind
from statements.period import Period, PeriodInvalid, month_of, period_check, period_from_text
from web.forms.statements import PeriodForm, recent_months
from web.views.common import PersonPageMixin, add_domain_error, paginate

PDF = "application/pdf"


def period_chosen(request: HttpRequest) -> tuple[PeriodForm, Period | None]:
    """The period form as the request left it, and the period it chose (None, with the form's errors, when
    the period is not one a statement may cover)."""
    months = recent_months(month_of(timezone.localdate()))
    query = request.GET
    if "show" in query:
        form = PeriodForm(query, months=months)
        if not form.is_valid():
            return form, None
        try:
            return form, period_check(form.cleaned_data["period"])
        except PeriodInvalid as error:
            add_domain_error(form, error)
            return form, None
    try:
        period = period_from_text(query.get("from"), query.get("to"), today=timezone.localdate())
    except PeriodInvalid as error:
        form = PeriodForm(months=months, initial={"show": "dates"})
        form.cleaned_data = {}  # an unbound form takes errors once it has (empty) cleaned data
        add_domain_error(form, error)
        return form, None
    return PeriodForm.showing(period, months=months), period


def period_query(period: Period) -> str:
    """The period as the downloads and the pages' links name it: "from=2026-11-01&to=2026-11-30"."""
    return urlencode({"from": period.starts_on.isoformat(), "to": period.ends_on.isoformat()})


def period_from_query(request: HttpRequest) -> Period | None:
    """A download's period (`from`, `to`); None when it cannot be read (the page then says why)."""
    try:
        return period_from_text(request.GET.get("from"), request.GET.get("to"), today=timezone.localdate())
    except PeriodInvalid:
        return None


def back_to_page(url: str, query: QueryDict) -> HttpResponseRedirect:
    """To the statement page with the same period, which shows what is wrong with it."""
    return HttpResponseRedirect(f"{url}?{query.urlencode()}" if query else url)


def file_slug(period: Period) -> str:
    """The period in a download's file name, as the API names it: "2026-11-01-2026-11-30"."""
    return f"{period.starts_on.isoformat()}-{period.ends_on.isoformat()}"


def pdf_response(content: bytes, *, filename: str) -> HttpResponse:
    """A PDF to save (not to show in the browser's viewer), byte for byte."""
    return HttpResponse(
        content,
        content_type=PDF,
        headers={"Content-Disposition": content_disposition_header(as_attachment=True, filename=filename)},
    )


class StatementsView(PersonPageMixin, TemplateView):
    """The person's statement for the period chosen, its PDF link, and the statements issued to them."""

    template_name = "web/statements/statements.html"
    person_tab = "web:statements"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form, period = period_chosen(self.request)
        context.update(form=form, period=period)
        if period is None:
            return context
        statement = selectors.person_statement(budget_holder=self.person, period=period)
        query = period_query(period)
        context.update(
            statement=statement,
            query=query,
            pdf_url=reverse("web:statement-pdf", args=[self.person.public_id]) + "?" + query,
            issued=paginate(self.request, selectors.issued_for_person(budget_holder=self.person)),
        )
        return context


class StatementPdfView(PersonPageMixin, View):
    """The statement for `from` to `to` as a tagged PDF (made now, from the ledger as it stands)."""

    def get(self, request: HttpRequest, per: str) -> HttpResponse:
        period = period_from_query(request)
        if period is None:
            return back_to_page(reverse("web:statements", args=[per]), request.GET)
        statement = selectors.person_statement(budget_holder=self.person, period=period)
        pdf = selectors.person_pdf(statement)
        return pdf_response(
            pdf.content, filename=f"statement-{self.person.public_id}-{file_slug(period)}.pdf"
        )


class IssuedStatementPdfView(PersonPageMixin, View):
    """A statement issued to the person, exactly as it was issued; 404 for anyone else's."""

    def get(self, request: HttpRequest, per: str, stm: str) -> HttpResponse:
        issued = issued_or_404(stm)
        if issued.kind != StatementKind.PERSON or issued.budget_holder_id != self.person.pk:
            raise Http404("No such statement.")
        filename = f"statement-{self.person.public_id}-{issued_slug(issued)}.pdf"
        return pdf_response(bytes(issued.pdf), filename=filename)


def issued_or_404(public_id: str) -> IssuedStatement:
    try:
        return selectors.issued_get(public_id=public_id)
    except selectors.IssuedStatementNotFound:
        raise Http404("No such statement.") from None


def issued_slug(issued: IssuedStatement) -> str:
    return file_slug(Period(issued.starts_on, issued.ends_on))
