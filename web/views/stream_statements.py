"""Agency statements: for one funding stream and a period, the totals and a line for each person the stream
funds (a page of people at a time), with the whole statement as CSV (for the finance system) and as a tagged
PDF (for the file), the same as the API's; and the stream's issued statements.

An agency officer sees their own agency's streams only; finance officers and administrators see every
stream. Anyone else, and a stream that is not theirs, gets 404, as if it did not exist.
"""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from budgets.models import FundingStream
from budgets.selectors.catalogue import UnknownStream, stream_get, stream_list
from people.models import Role
from statements import selectors
from statements.access import sees_stream_statement, sees_stream_statements, streams_with_statements_for
from statements.formats import agency_csv_rows
from statements.models import StatementKind
from statements.period import Period
from web.views.common import paginate
from web.views.statements import (
    back_to_page,
    file_slug,
    issued_or_404,
    issued_slug,
    pdf_response,
    period_chosen,
    period_from_query,
    period_query,
)


def may_see_statements(user: Any) -> bool:
    return sees_stream_statements(user)


def streams_for(user: Any):
    """The streams whose statements `user` sees: their agency's, or every stream for finance."""
    return streams_with_statements_for(user, stream_list(active_only=False))


@method_decorator(never_cache, name="dispatch")
class StatementsPageMixin(LoginRequiredMixin):
    """Agency officers, finance officers and administrators only: 404 for anyone else signed in."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not may_see_statements(request.user):
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)


class StreamPageMixin(StatementsPageMixin):
    """A page about one stream's statement (`code` in the URL): sets `self.stream`; 404 unless theirs."""

    stream: FundingStream

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and may_see_statements(request.user):
            try:
                self.stream = stream_get(code=kwargs["code"])
            except UnknownStream:
                raise Http404("No such funding stream.") from None
            if not sees_stream_statement(request.user, self.stream):
                raise Http404("No such funding stream.")
        return super().dispatch(request, *args, **kwargs)

    def filename(self, period: Period, extension: str) -> str:
        return f"{self.stream.code}-statement-{file_slug(period)}.{extension}"


class StreamListView(StatementsPageMixin, TemplateView):
    """The streams whose statements the user sees, each linking to its statement."""

    template_name = "web/statements/streams.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            streams=list(streams_for(user)),
            agency=user.organisation if user.role == Role.AGENCY_OFFICER else None,
        )
        return context


class StreamStatementView(StreamPageMixin, TemplateView):
    """The stream's statement for the period chosen: totals, one page of people's lines, the downloads,
    and the statements issued for the stream."""

    template_name = "web/statements/stream.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form, period = period_chosen(self.request)
        context.update(stream=self.stream, form=form, period=period)
        if period is None:
            return context
        people = paginate(self.request, selectors.funded_people(stream=self.stream, period=period))
        query = period_query(period)
        code = self.stream.code
        context.update(
            totals=selectors.agency_totals(stream=self.stream, period=period),
            people=people,
            lines=selectors.agency_lines(stream=self.stream, period=period, people=list(people.object_list)),
            currency=self.stream.currency,
            query=query,
            csv_url=reverse("web:stream-statement-csv", args=[code]) + "?" + query,
            pdf_url=reverse("web:stream-statement-pdf", args=[code]) + "?" + query,
            issued=paginate(
                self.request, selectors.issued_for_stream(stream=self.stream), param="issued_page"
            ),
        )
        return context


class StreamStatementCsvView(StreamPageMixin, View):
    """The whole statement as CSV, one row per person, streamed a batch of people at a time."""

    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        period = period_from_query(request)
        if period is None:
            return back_to_page(reverse("web:stream-statement", args=[code]), request.GET)
        stream = self.stream

        def lines():
            for batch in selectors.people_batches(stream=stream, period=period):
                yield from selectors.agency_lines(stream=stream, period=period, people=batch)

        rows = agency_csv_rows(
            stream_code=stream.code,
            period_from=period.starts_on.isoformat(),
            period_to=period.ends_on.isoformat(),
            currency=stream.currency,
            lines=lines(),
        )
        return StreamingHttpResponse(
            rows,
            content_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": content_disposition_header(
                    as_attachment=True, filename=self.filename(period, "csv")
                )
            },
        )


class StreamStatementPdfView(StreamPageMixin, View):
    """The whole statement, every person's line, as a tagged PDF."""

    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        period = period_from_query(request)
        if period is None:
            return back_to_page(reverse("web:stream-statement", args=[code]), request.GET)
        pdf = selectors.agency_pdf(
            stream=self.stream,
            period=period,
            totals=selectors.agency_totals(stream=self.stream, period=period),
            lines=selectors.agency_all_lines(stream=self.stream, period=period),
        )
        return pdf_response(pdf.content, filename=self.filename(period, "pdf"))


class StreamIssuedStatementPdfView(StreamPageMixin, View):
    """An agency statement issued for the stream, exactly as it was issued; 404 for another stream's."""

    def get(self, request: HttpRequest, code: str, stm: str) -> HttpResponse:
        issued = issued_or_404(stm)
        if issued.kind != StatementKind.AGENCY or issued.stream_id != self.stream.pk:
            raise Http404("No such statement.")
        return pdf_response(bytes(issued.pdf), filename=f"{code}-statement-{issued_slug(issued)}.pdf")
