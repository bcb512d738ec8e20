"""Payment runs, for finance officers and administrators (anyone else gets 404): the runs, starting one (the
Bacs processing day, then "Check and confirm": what would be paid now, by which rail, and who would be
skipped and why), one run's progress, payments and skipped providers, its Bacs file (download it, then say
it was uploaded to the bank or that it will not be), and the payment warnings (payments that failed or were
reversed) to mark as seen.

Starting, resuming and deciding on a Bacs file are POSTs after a confirmation page, redirecting to the run's
page (POST/redirect/GET). The payments are sent by Celery workers; with no broker configured (the embedded
default) they are sent in the POST itself, and the pages say so. While a run is paying, its page shows a
"Check progress again" link and, with JavaScript, fetches its own progress every few seconds (web/purse.js,
the same polling as the statement runs'), never a meta refresh (WCAG 2.2.1).
"""

from typing import Any

from django.contrib import messages
from django.core.paginator import Page
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from ledger.errors import DomainError
from payments import selectors, tasks
from payments.models import (
    BacsFile,
    BacsFileStatus,
    Payment,
    PaymentRun,
    PaymentRunStatus,
    PaymentStatus,
)
from payments.services import runs as services
from people.models import Role
from people.services import audit_event_record
from plans.wording import date_display, money_display
from web.forms.payment_runs import BacsFileCancelForm, ConfirmForm, PaymentRunStartForm
from web.templatetags.purse import day
from web.views.common import add_domain_error, paginate
from web.views.statement_runs import POLL_SECONDS, FinancePageMixin, runs_eagerly

RUN_TAGS = {
    PaymentRunStatus.RUNNING: "govuk-tag--blue",
    PaymentRunStatus.WAITING_FOR_UPLOAD: "govuk-tag--yellow",
    PaymentRunStatus.DONE: "govuk-tag--green",
    PaymentRunStatus.DONE_WITH_FAILURES: "govuk-tag--orange",
}
PAYMENT_TAGS = {
    PaymentStatus.PENDING: "govuk-tag--grey",
    PaymentStatus.IN_FILE: "govuk-tag--yellow",
    PaymentStatus.SENT: "govuk-tag--blue",
    PaymentStatus.PAID: "govuk-tag--green",
    PaymentStatus.FAILED: "govuk-tag--red",
    PaymentStatus.REVERSED: "govuk-tag--red",
    PaymentStatus.CANCELLED: "govuk-tag--grey",
}
BACS_FILE_TAGS = {
    BacsFileStatus.WRITTEN: "govuk-tag--yellow",
    BacsFileStatus.UPLOADED: "govuk-tag--green",
    BacsFileStatus.CANCELLED: "govuk-tag--grey",
}
SKIPPED_PAGE_SIZE = 20


def counted(count: int, word: str) -> str:
    """ "1 invoice", "3 invoices"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def run_words(run: PaymentRun) -> str:
    """How a run is named on its pages: "the payment run started 20 November 2026, 10:15"."""
    return f"the payment run started {day(run.created_at)}"


def tagged(page: Page, tags: dict[str, str]) -> list[tuple[Any, str]]:
    """Each item of a page with the GOV.UK tag class of its status."""
    return [(item, tags.get(item.status, "govuk-tag--grey")) for item in page.object_list]


class RunListView(FinancePageMixin, TemplateView):
    """The runs, newest first, the payment warnings banner and the button to start a run."""

    template_name = "web/payment_runs/runs.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        runs = paginate(self.request, selectors.run_list())
        context.update(
            runs=runs,
            tagged_runs=tagged(runs, RUN_TAGS),
            warnings=selectors.payment_warnings().count(),
            running=selectors.payment_run_running(),
        )
        return context


class RunStartView(FinancePageMixin, View):
    """Choose the processing day (GET, or a POST that needs correcting), check what would be paid (POST),
    then start the run (POST with `confirm`) and go to its page."""

    form_template = "web/payment_runs/start.html"
    confirm_template = "web/payment_runs/start_confirm.html"

    def render_page(self, template: str, form: PaymentRunStartForm, **extra: Any) -> HttpResponse:
        context = {"form": form, "eager": runs_eagerly(), "running": selectors.payment_run_running(), **extra}
        return render(self.request, template, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(self.form_template, PaymentRunStartForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PaymentRunStartForm(request.POST)
        if not form.is_valid() or "change" in request.POST:
            return self.render_page(self.form_template, form)
        pay_on = form.cleaned_data["pay_on"]
        if "confirm" not in request.POST:
            return self.render_page(
                self.confirm_template, form, pay_on=pay_on, preview=selectors.payment_run_preview()
            )
        try:
            started = services.payment_run_start(by=request.user, pay_on=pay_on)
        except DomainError as error:
            add_domain_error(form, error, fields={"/pay_on": "pay_on", "": "pay_on"})
            return self.render_page(self.form_template, form)
        run = started.run
        if started.created:
            messages.success(
                request,
                f"You started a payment run: {counted(run.invoices, 'invoice')} in "
                f"{counted(run.payments, 'payment')}, "
                f"{money_display(run.total_minor, currency=run.currency)}.",
            )
        else:
            messages.info(
                request,
                f"A payment run was already running (started {day(run.created_at)}), so no "
                "new one was started. This is it: it pays the invoices it holds, and the next run pays "
                "the rest.",
            )
        return HttpResponseRedirect(reverse("web:payment-run", args=[run.public_id]))


class RunPageMixin(FinancePageMixin):
    """A page about one run (`run` in the URL): sets `self.run`; 404 if there is no such run."""

    run: PaymentRun

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.is_finance(request):
            try:
                self.run = selectors.run_get(public_id=kwargs["run"])
            except selectors.PaymentRunNotFound:
                raise Http404("No such payment run.") from None
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def is_finance(request: HttpRequest) -> bool:
        user = request.user
        return user.is_authenticated and user.role in (Role.FINANCE_OFFICER, Role.ADMINISTRATOR)

    def run_context(self) -> dict[str, Any]:
        progress = selectors.run_progress(run=self.run)
        by_status = progress.by_status
        return {
            "run": self.run,
            "run_words": run_words(self.run),
            "progress": progress,
            "paid_count": by_status.get(PaymentStatus.SENT, 0) + by_status.get(PaymentStatus.PAID, 0),
            "in_file_count": by_status.get(PaymentStatus.IN_FILE, 0),
            "failed_count": by_status.get(PaymentStatus.FAILED, 0) + by_status.get(PaymentStatus.REVERSED, 0),
            "cancelled_count": by_status.get(PaymentStatus.CANCELLED, 0),
            "pending_count": by_status.get(PaymentStatus.PENDING, 0),
            "running": self.run.status == PaymentRunStatus.RUNNING and not self.run.error,
            "status_tag": RUN_TAGS.get(self.run.status, "govuk-tag--grey"),
            "run_url": reverse("web:payment-run", args=[self.run.public_id]),
            "eager": runs_eagerly(),
        }

    def bacs_file(self) -> BacsFile | None:
        return selectors.run_bacs_file(run=self.run)


class RunDetailView(RunPageMixin, TemplateView):
    """The run's progress, its Bacs file, its payments and the providers it skipped; asked with
    `X-Requested-With: fetch` (the page's own polling), only the progress."""

    template_name = "web/payment_runs/run.html"
    progress_template = "web/payment_runs/_progress.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.headers.get("X-Requested-With") == "fetch":
            context = self.run_context()
            response = render(request, self.progress_template, context)
            response["X-Purse-Running"] = "1" if context["running"] else "0"
            return response
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.run_context())
        payments = paginate(self.request, selectors.run_payments(run=self.run))
        skipped = paginate(
            self.request, selectors.run_skipped(run=self.run), per_page=SKIPPED_PAGE_SIZE, param="skipped"
        )
        bacs_file = self.bacs_file()
        context.update(
            payments=payments,
            tagged_payments=tagged(payments, PAYMENT_TAGS),
            skipped=skipped,
            skipped_count=len(self.run.skipped or []),
            bacs_file=bacs_file,
            bacs_file_tag=BACS_FILE_TAGS.get(bacs_file.status, "govuk-tag--grey") if bacs_file else "",
            poll_seconds=POLL_SECONDS,
            payments_query=f"skipped={skipped.number}&" if skipped.number > 1 else "",
            skipped_query=f"page={payments.number}&" if payments.number > 1 else "",
        )
        return context


class RunResumeView(RunPageMixin, View):
    """Are you sure (GET), then send the run's waiting payments again (POST): after Stripe could not be
    reached, or a worker stopped. A payment is never paid twice: its id is Stripe's idempotency key."""

    template_name = "web/payment_runs/resume.html"

    def render_page(self, form: ConfirmForm) -> HttpResponse:
        context = self.run_context()
        context.update(form=form, applies=self.run.status == PaymentRunStatus.RUNNING)
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, run: str) -> HttpResponse:
        return self.render_page(ConfirmForm())

    def post(self, request: HttpRequest, run: str) -> HttpResponse:
        form = ConfirmForm(request.POST)
        self.run.refresh_from_db()
        if self.run.status != PaymentRunStatus.RUNNING:
            form.add_error(None, "This payment run is not paying any more, so there is nothing to resume.")
            return self.render_page(form)
        PaymentRun.objects.filter(pk=self.run.pk).update(error="")
        audit_event_record(actor=request.user, action="payment_run.resumed", obj=self.run)
        run_pk = self.run.pk
        transaction.on_commit(lambda: tasks.payment_run_process.delay(run_pk))
        messages.success(request, "You resumed the payment run: its waiting payments were sent again.")
        return HttpResponseRedirect(reverse("web:payment-run", args=[self.run.public_id]))


class BacsFilePageMixin(RunPageMixin):
    """A page about the run's Bacs file: sets `self.file`; 404 if the run has none."""

    file: BacsFile

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.is_finance(request):
            found = BacsFile.objects.filter(run__public_id=kwargs["run"]).select_related("run").first()
            if found is None:
                raise Http404("This payment run has no Bacs file.")
            self.file = found
        return super().dispatch(request, *args, **kwargs)

    def file_context(self, form: Any) -> dict[str, Any]:
        context = self.run_context()
        context.update(
            form=form,
            bacs_file=self.file,
            bacs_file_tag=BACS_FILE_TAGS.get(self.file.status, "govuk-tag--grey"),
            undecided=self.file.status == BacsFileStatus.WRITTEN,
        )
        return context


class BacsFileDownloadView(BacsFilePageMixin, View):
    """The Bacs file exactly as written, to upload to the bank (each download is in the audit trail)."""

    def get(self, request: HttpRequest, run: str) -> HttpResponse:
        audit_event_record(
            actor=request.user,
            action="bacs_file.downloaded",
            obj=self.file,
            detail={"run": self.run.public_id},
        )
        response = HttpResponse(self.file.content, content_type="text/plain; charset=us-ascii")
        response["Content-Disposition"] = f'attachment; filename="{self.file.filename}"'
        return response


class BacsFileUploadedView(BacsFilePageMixin, View):
    """Are you sure the file was uploaded (GET: the file, its credits, total and processing day), then record
    its payments paid (POST)."""

    template_name = "web/payment_runs/bacs_uploaded.html"

    def get(self, request: HttpRequest, run: str) -> HttpResponse:
        return render(request, self.template_name, self.file_context(ConfirmForm()))

    def post(self, request: HttpRequest, run: str) -> HttpResponse:
        form = ConfirmForm(request.POST)
        try:
            services.bacs_file_confirm(bacs_file=self.file, by=request.user)
        except DomainError as error:
            add_domain_error(form, error)
            self.file.refresh_from_db()
            return render(request, self.template_name, self.file_context(form))
        messages.success(
            request,
            f"You confirmed that {self.file.filename} was uploaded to the bank: "
            f"{counted(self.file.credits, 'payment')} of "
            f"{money_display(self.file.total_minor, currency=self.run.currency)} recorded as paid, "
            f"on {date_display(self.file.processing_day)}.",
        )
        return HttpResponseRedirect(reverse("web:payment-run", args=[self.run.public_id]))


class BacsFileCancelView(BacsFilePageMixin, View):
    """Say why the file will not be uploaded (GET, or a POST to correct), then cancel its payments (POST):
    their invoices wait for the next run."""

    template_name = "web/payment_runs/bacs_cancel.html"

    def get(self, request: HttpRequest, run: str) -> HttpResponse:
        return render(request, self.template_name, self.file_context(BacsFileCancelForm()))

    def post(self, request: HttpRequest, run: str) -> HttpResponse:
        form = BacsFileCancelForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, self.file_context(form))
        try:
            services.bacs_file_cancel(
                bacs_file=self.file, by=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error, fields={"": "reason"})
            self.file.refresh_from_db()
            return render(request, self.template_name, self.file_context(form))
        messages.success(
            request,
            f"You cancelled {self.file.filename}: it will not be uploaded. Its "
            f"{counted(self.file.credits, 'payment')} were cancelled and their invoices will be paid by the "
            "next payment run.",
        )
        return HttpResponseRedirect(reverse("web:payment-run", args=[self.run.public_id]))


class WarningListView(FinancePageMixin, TemplateView):
    """Payments that failed or were reversed and that nobody has marked as seen, newest first."""

    template_name = "web/payment_runs/warnings.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["warnings"] = paginate(self.request, selectors.payment_warnings())
        return context


class WarningSeenView(FinancePageMixin, View):
    """Mark one warning as seen (POST): it leaves the list; the payment and its history stay as they are."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, payment: str) -> HttpResponse:
        found = Payment.objects.filter(public_id=payment).select_related("provider").first()
        if found is None:
            raise Http404("No such payment.")
        try:
            services.payment_warning_acknowledge(payment=found, by=request.user)
        except DomainError as error:
            messages.info(request, error.message)
        else:
            messages.success(
                request,
                f"You marked as seen that payment {found.public_id} to {found.provider.name} of "
                f"{money_display(found.amount_minor, currency=found.currency)} did not go through.",
            )
        page = request.POST.get("page", "")
        query = f"?page={page}" if page.isdigit() and page != "1" else ""
        return HttpResponseRedirect(reverse("web:payment-warnings") + query)
