"""Funding received from the agencies, for finance: the instalments that are late, recording an agency's
payment, and the payments recorded.

* `/finance/funding/`: late instalments by stream (a summary table: how many, how much, the oldest, in one
  grouped query) and a paged list of them, which may be narrowed to one stream.
* `/finance/funding/<CODE>/record/`: the stream's due instalments to tick (a page at a time: the ticks of
  other pages are carried along when moving between pages), the agency's reference, the day the money
  arrived and the amount on the bank statement; then "Check and confirm" (the total, and what will change)
  before anything is recorded; then the receipt's page with a confirmation panel. Every problem shows in an
  error summary linking to its field, and nothing is recorded.
* `/finance/funding/receipts/`: the payments recorded, the latest received first, paged; and each one's page.

Finance officers and administrators see every stream's and record. An agency officer sees their own
agency's streams' late instalments and receipts, read-only (`statements.access`, as for agency statements):
the record page is not theirs (404). Everyone else gets 404.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from budgets.models import FundingStream
from budgets.selectors import catalogue as catalogue_selectors
from ledger.errors import DomainError
from payments import selectors
from payments.services import funding as services
from people.models import Role
from statements.access import sees_stream_statement, sees_stream_statements, streams_with_statements_for
from web.forms.funding import FundingReceiptForm, StreamFilterForm, field_for
from web.views.common import paginate

RECORDERS = (Role.FINANCE_OFFICER, Role.ADMINISTRATOR)
RECORD_PAGE_SIZE = 25
RECORDED_SESSION_KEY = "funding_receipt_recorded"


def _visible_streams(user: Any) -> QuerySet[FundingStream]:
    return streams_with_statements_for(user, FundingStream.objects.all()).order_by("code")


@method_decorator(never_cache, name="dispatch")
class FundingPageMixin(LoginRequiredMixin):
    """Finance, administrators and agency officers (their own streams, read-only); 404 for anyone else."""

    records_only = False  # the page records: finance officers and administrators only

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.may_record = request.user.role in RECORDERS
        if not sees_stream_statements(request.user) or (self.records_only and not self.may_record):
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)


class LateView(FundingPageMixin, TemplateView):
    """Late instalments: the totals by stream and the list, optionally of one stream."""

    template_name = "web/funding/late.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        streams = _visible_streams(self.request.user)
        choices = [(stream.code, f"{stream.name} ({stream.code})") for stream in streams]
        form = StreamFilterForm(self.request.GET or None, streams=choices)
        code = form.cleaned_data.get("stream") if form.is_valid() else ""
        late = selectors.instalments_late(stream_code=code or None, streams=streams)
        today = timezone.localdate()
        page = paginate(self.request, late)
        context.update(
            form=form,
            totals=selectors.late_totals(streams=streams),
            page=page,
            rows=[(instalment, (today - instalment.due_on).days) for instalment in page.object_list],
            stream_code=code,
            page_query=urlencode({"stream": code}) + "&" if code else "",
            may_record=self.may_record,
            today=today,
        )
        return context


class ReceiptListView(FundingPageMixin, TemplateView):
    """The payments recorded, the latest received first."""

    template_name = "web/funding/receipts.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        receipts = selectors.funding_receipts(streams=_visible_streams(self.request.user))
        context.update(page=paginate(self.request, receipts), may_record=self.may_record)
        return context


class ReceiptView(FundingPageMixin, TemplateView):
    """One payment recorded and the instalments it paid; with a confirmation panel just after recording."""

    template_name = "web/funding/receipt.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        receipt = selectors.funding_receipt_get(public_id=kwargs["rcv"])
        if receipt is None or not sees_stream_statement(self.request.user, receipt.stream):
            raise Http404("No such payment.")
        just_recorded = self.request.session.pop(RECORDED_SESSION_KEY, None) == receipt.public_id
        context.update(
            receipt=receipt,
            instalments=paginate(self.request, selectors.receipt_instalments(receipt=receipt)),
            just_recorded=just_recorded,
        )
        return context


class RecordView(FundingPageMixin, View):
    """Tick the instalments and give the payment's details (GET; a POST that moves between pages or needs
    correcting), check them (POST `continue`), then record (POST `confirm`) and go to the receipt."""

    records_only = True
    form_template = "web/funding/record.html"
    confirm_template = "web/funding/record_confirm.html"
    stream: FundingStream

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.user.role in RECORDERS:
            try:
                self.stream = catalogue_selectors.stream_get(code=kwargs["code"])
            except catalogue_selectors.UnknownStream:
                raise Http404("No such funding stream.") from None
        return super().dispatch(request, *args, **kwargs)

    def form(self, data: Any = None) -> FundingReceiptForm:
        return FundingReceiptForm(data, currency=self.stream.currency)

    def render_form(self, form: FundingReceiptForm, *, page_number: Any = None) -> HttpResponse:
        receivable = selectors.instalments_receivable(stream_code=self.stream.code)
        page = paginate(self.request, receivable, per_page=RECORD_PAGE_SIZE)
        if page_number is not None:
            page = page.paginator.get_page(page_number)
        ticked = list(dict.fromkeys(form.data.getlist("instalments"))) if form.is_bound else []
        on_page = {instalment.public_id for instalment in page.object_list}
        return render(
            self.request,
            self.form_template,
            {
                "stream": self.stream,
                "form": form,
                "page": page,
                "ticked": set(ticked),
                "carried": [public_id for public_id in ticked if public_id not in on_page],
                "today": timezone.localdate(),
            },
        )

    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        return self.render_form(self.form())

    def post(self, request: HttpRequest, code: str) -> HttpResponse:
        form = self.form(request.POST)
        if "show_page" in request.POST:  # moving between pages of instalments: nothing is checked yet
            return self.render_form(_unchecked(form), page_number=request.POST.get("show_page"))
        if not form.is_valid() or "change" in request.POST:
            if "change" in request.POST:
                form = _unchecked(form)
            return self.render_form(form)
        data = form.cleaned_data
        arguments = {
            "stream": self.stream,
            "instalments": data["instalments"],
            "reference": data["reference"],
            "received_on": data["received_on"],
            "amount_minor": data["amount"],
        }
        try:
            if "confirm" not in request.POST:
                check = services.funding_receipt_check(**arguments)
                return render(
                    request,
                    self.confirm_template,
                    {"stream": self.stream, "form": form, "check": check, "data": data},
                )
            result = services.funding_receipt_record(**arguments, by=request.user)
        except DomainError as error:
            _add_problems(form, error)
            return self.render_form(form)
        request.session[RECORDED_SESSION_KEY] = result.receipt.public_id
        return HttpResponseRedirect(reverse("web:funding-receipt", args=[result.receipt.public_id]))


def _unchecked(form: FundingReceiptForm) -> FundingReceiptForm:
    """The form as typed, shown again without its errors (moving between pages, or changing an answer)."""
    form._errors = {}  # shown as typed; checked when the person continues
    form.cleaned_data = {}
    return form


def _add_problems(form: FundingReceiptForm, error: DomainError) -> None:
    """Each of the domain's problems on the field its pointer names (the rest at the top), once each."""
    problems = getattr(error, "errors", None) or [{"pointer": "", "detail": error.message}]
    for problem in problems:
        form.add_error(field_for(problem.get("pointer") or ""), problem.get("detail") or error.message)
