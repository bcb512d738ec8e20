"""Month-end statement runs, for finance officers and administrators (anyone else gets 404): the runs and
how far each has got, starting one for a month, and one run's progress and failures, resumed (its waiting
statements sent again) or retried (its failed ones), each after an "Are you sure" page.

Starting, resuming and retrying are POSTs that redirect to the run's page (POST/redirect/GET). The
statements are made by Celery workers; with no broker configured (the embedded default) they are made
eagerly, in the POST itself, and the pages say so. While a run is making statements its page shows a
"Check progress again" link, and with JavaScript updates its progress every few seconds (no meta refresh,
which would move a person on before they had finished reading: WCAG 2.2.1).
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from ledger.errors import DomainError
from people.models import Role
from plans.wording import date_display
from statements import selectors, services
from statements.models import RunStatus, StatementRun
from statements.period import Period, previous_month
from web.forms.statements import ConfirmForm, RunStartForm, recent_months
from web.views.common import add_domain_error, paginate

POLL_SECONDS = 5
STATUS_TAGS = {
    RunStatus.PREPARING: "govuk-tag--grey",
    RunStatus.RUNNING: "govuk-tag--blue",
    RunStatus.DONE: "govuk-tag--green",
    RunStatus.DONE_WITH_FAILURES: "govuk-tag--orange",
}


def runs_eagerly() -> bool:
    """Whether statements are made in the request that asks for them (no Celery broker configured)."""
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


def statements_count(count: int, words: str = "statement") -> str:
    """ "1 statement", "3 failed statements"."""
    return f"{count} {words}{'' if count == 1 else 's'}"


def period_words(run: StatementRun) -> str:
    return f"{date_display(run.starts_on)} to {date_display(run.ends_on)}"


def run_months() -> list[Period]:
    """The months a run may be started for: the last complete months, the latest first."""
    return recent_months(previous_month(timezone.localdate()))


def is_running(progress: selectors.RunProgress) -> bool:
    return progress.run.status in (RunStatus.PREPARING, RunStatus.RUNNING) and progress.pending > 0


@method_decorator(never_cache, name="dispatch")
class FinancePageMixin(LoginRequiredMixin):
    """Finance officers and administrators only: 404 for anyone else signed in."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.user.role not in (Role.FINANCE_OFFICER, Role.ADMINISTRATOR):
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)


class RunListView(FinancePageMixin, TemplateView):
    """The runs, the latest period first, with their progress; and the form to start one."""

    template_name = "web/statement_runs/runs.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        runs = paginate(self.request, selectors.run_list())
        context.update(
            runs=runs,
            progresses=[
                (selectors.run_progress(run=run), STATUS_TAGS.get(run.status, "govuk-tag--grey"))
                for run in runs.object_list
            ],
            form=RunStartForm(months=run_months()),
            eager=runs_eagerly(),
        )
        return context


class RunStartView(FinancePageMixin, View):
    """Choose the month (GET, or a POST that needs correcting), check it (POST), then start the run (POST
    with `confirm`) and go to its page."""

    form_template = "web/statement_runs/start.html"
    confirm_template = "web/statement_runs/start_confirm.html"

    def render_page(self, template: str, form: RunStartForm) -> HttpResponse:
        return render(self.request, template, {"form": form, "eager": runs_eagerly()})

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(self.form_template, RunStartForm(months=run_months()))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RunStartForm(request.POST, months=run_months())
        if not form.is_valid() or "change" in request.POST:
            return self.render_page(self.form_template, form)
        if "confirm" not in request.POST:
            return self.render_page(self.confirm_template, form)
        try:
            run, created = services.statement_run_start(period=form.period, by=request.user)
        except DomainError as error:
            add_domain_error(form, error, fields={"/from": "month", "/to": "month"})
            return self.render_page(self.form_template, form)
        if created:
            messages.success(
                request,
                f"You started the statement run for {period_words(run)}: {statements_count(run.total)}.",
            )
        else:
            messages.info(request, f"There is already a statement run for {period_words(run)}. This is it.")
        return HttpResponseRedirect(reverse("web:statement-run", args=[run.public_id]))


class RunPageMixin(FinancePageMixin):
    """A page about one run (`run` in the URL): sets `self.run`; 404 if there is no such run."""

    run: StatementRun

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.user.role in (Role.FINANCE_OFFICER, Role.ADMINISTRATOR):
            try:
                self.run = selectors.run_get(public_id=kwargs["run"])
            except selectors.StatementRunNotFound:
                raise Http404("No such statement run.") from None
        return super().dispatch(request, *args, **kwargs)

    def run_context(self) -> dict[str, Any]:
        progress = selectors.run_progress(run=self.run)
        return {
            "run": self.run,
            "progress": progress,
            "running": is_running(progress),
            "period_words": period_words(self.run),
            "status_tag": STATUS_TAGS.get(self.run.status, "govuk-tag--grey"),
            "run_url": reverse("web:statement-run", args=[self.run.public_id]),
            "eager": runs_eagerly(),
        }


class RunDetailView(RunPageMixin, TemplateView):
    """The run's progress and its failed statements (who, why); asked with `X-Requested-With: fetch` (the
    page's own polling), only the progress."""

    template_name = "web/statement_runs/run.html"
    progress_template = "web/statement_runs/_progress.html"

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
        context.update(
            failures=paginate(self.request, selectors.run_failures(run=self.run)), poll_seconds=POLL_SECONDS
        )
        return context


class RunActionView(RunPageMixin, View):
    """Are you sure (GET), then do it (POST) and go back to the run; a domain error is shown on this page."""

    template_name = ""
    action = ""  # "resume" or "retry"

    def applies(self, progress: selectors.RunProgress) -> bool:
        raise NotImplementedError

    def act(self) -> str:
        """Call the service; the success message."""
        raise NotImplementedError

    def render_page(self, form: ConfirmForm) -> HttpResponse:
        context = self.run_context()
        context.update(form=form, applies=self.applies(context["progress"]))
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, run: str) -> HttpResponse:
        return self.render_page(ConfirmForm())

    def post(self, request: HttpRequest, run: str) -> HttpResponse:
        form = ConfirmForm(request.POST)
        try:
            message = self.act()
        except DomainError as error:
            add_domain_error(form, error)
            self.run.refresh_from_db()
            return self.render_page(form)
        messages.success(request, message)
        return HttpResponseRedirect(reverse("web:statement-run", args=[self.run.public_id]))


class RunResumeView(RunActionView):
    """Send again the run's statements still waiting (after a crash or a lost worker)."""

    template_name = "web/statement_runs/resume.html"

    def applies(self, progress: selectors.RunProgress) -> bool:
        return progress.pending > 0

    def act(self) -> str:
        progress = services.statement_run_resume(run=self.run, by=self.request.user)
        waiting = statements_count(progress.pending, "waiting statement")
        return f"You resumed the statement run: {waiting} sent to be made."


class RunRetryView(RunActionView):
    """Send again only the run's failed statements."""

    template_name = "web/statement_runs/retry.html"

    def applies(self, progress: selectors.RunProgress) -> bool:
        return progress.failed > 0

    def act(self) -> str:
        # Counted first: made eagerly, the statements may be done again by the time the service returns.
        failed = selectors.run_progress(run=self.run).failed
        services.statement_run_retry(run=self.run, by=self.request.user)
        return f"You sent the {statements_count(failed, 'failed statement')} to be made again."
