"""Reconciliation, for finance officers and administrators (`payments.reconciliation.may_reconcile`; anyone
else gets 404): the bank and Stripe accounts with their latest statements, uploading a statement file, an
import's lines by state with what each matched and why, one line's history and the decisions on it
(confirm or reject a suggestion, match by hand, unmatch), and the report of an account for a period (HTML,
CSV and a tagged PDF from the same template as the page) with "Mark reconciled".

Every change is a POST (with CSRF) through `payments.reconciliation`, which checks the caller and writes the
audit trail; a domain error is shown in a GOV.UK error summary and changes nothing. A large file is matched
by Celery workers: its import page says "processing" with the lines checked so far, offers "Check progress
again" and, with JavaScript, updates the progress by itself (web/purse.js, the same polling as the payment
runs'), never with a meta refresh, which would move a person on before they had finished reading (WCAG
2.2.1).
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from ledger.errors import DomainError
from ledger.money import money_format
from ledger.reconciliation import matching
from ledger.reconciliation import selectors as reconciliation
from ledger.reconciliation.models import (
    ImportStatus,
    LineState,
    MatchStatus,
    ReconciledPeriod,
    ReconciliationAccount,
    ReconciliationMatch,
    StatementImport,
    StatementLine,
)
from ledger.reconciliation.selectors import ReconciliationNotFound, ReconciliationReport
from ledger.reconciliation.services import DuplicateImport
from ledger.reconciliation.statement_files import (
    FORMAT_NAMES,
    InvalidCsvMapping,
    StatementFileInvalid,
    statement_file_detect,
)
from ledger.selectors import period_closed_through
from payments import reconciliation as services
from people.models import User
from plans.wording import date_display, money_display
from statements.period import previous_month
from statements.rendering import render_pdf
from web.forms.reconciliation import (
    MAPPING_FIELDS,
    LineMatchForm,
    NoteForm,
    ReportPeriodForm,
    StatementUploadForm,
    UnmatchForm,
    mapping_error_field,
)
from web.forms.statements import ConfirmForm
from web.views.common import add_domain_error, paginate
from web.views.statement_runs import POLL_SECONDS

LINES_PAGE_SIZE = 50
LATEST_IMPORTS = 3
# Ledger transactions offered as choices when matching by hand: this many days either side of the line.
NEARBY_DAYS = 7
# The report page lists this many of each list; the CSV and the PDF list them all.
REPORT_LIST_LIMIT = 100
AUTOMATIC = "purse"
STATES = (
    ("", "All lines"),
    (LineState.MATCHED, "Matched"),
    (LineState.SUGGESTED, "Suggested"),
    (LineState.UNMATCHED, "Unmatched"),
)
STATE_TAGS = {
    LineState.MATCHED: "govuk-tag--green",
    LineState.SUGGESTED: "govuk-tag--yellow",
    LineState.UNMATCHED: "govuk-tag--red",
}
MATCH_TAGS = {
    MatchStatus.MATCHED: "govuk-tag--green",
    MatchStatus.SUGGESTED: "govuk-tag--yellow",
    MatchStatus.REJECTED: "govuk-tag--grey",
    MatchStatus.UNMATCHED: "govuk-tag--grey",
}
IMPORT_TAGS = {
    ImportStatus.PROCESSING: "govuk-tag--blue",
    ImportStatus.DONE: "govuk-tag--green",
    ImportStatus.FAILED: "govuk-tag--red",
}


def money(amount_minor: int, currency: str) -> str:
    return money_display(amount_minor, currency=currency)


def counted(count: int, word: str, many: str = "") -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


# Who did what ------------------------------------------------------------------------------------------


def names_of(usernames: set[str]) -> dict[str, str]:
    """How the pages name the people the reconciliation records by username (one query)."""
    names = {AUTOMATIC: "Purse, automatically"}
    wanted = {name for name in usernames if name and name != AUTOMATIC}
    for user in User.objects.filter(username__in=wanted).only("username", "first_name", "last_name"):
        names[user.username] = user.get_full_name() or user.username
    return names


@dataclass
class MatchRow:
    """A match or suggestion as the pages show it: its items and who made and decided it, by name."""

    match: ReconciliationMatch
    made_by: str
    decided_by: str
    tag: str
    items_minor: int
    may_confirm: bool = False


def match_rows(
    matches: list[ReconciliationMatch], *, line: StatementLine, names: dict[str, str]
) -> list[MatchRow]:
    rows = []
    for match in matches:
        items_minor = sum(item.amount_minor for item in match.items.all())
        rows.append(
            MatchRow(
                match=match,
                made_by=names.get(match.created_by, match.created_by),
                decided_by=names.get(match.decided_by, match.decided_by) if match.decided_by else "",
                tag=MATCH_TAGS.get(match.status, "govuk-tag--grey"),
                items_minor=items_minor,
                may_confirm=match.status == MatchStatus.SUGGESTED
                and line.state != LineState.MATCHED
                and items_minor == line.amount_minor,
            )
        )
    return rows


@dataclass
class LineRow:
    line: StatementLine
    tag: str
    matches: list[MatchRow] = field(default_factory=list)


def line_rows(lines: list[StatementLine]) -> list[LineRow]:
    """Each line with its matches in force (prefetched by the selectors) and who made them."""
    usernames = {
        username
        for line in lines
        for match in line.matches_in_force
        for username in (match.created_by, match.decided_by)
    }
    names = names_of(usernames)
    return [
        LineRow(
            line=line,
            tag=STATE_TAGS.get(line.state, "govuk-tag--grey"),
            matches=match_rows(line.matches_in_force, line=line, names=names),
        )
        for line in lines
    ]


def line_words(line: StatementLine) -> str:
    """How a line is named in messages: "the line of 4 November 2026, £150.00"."""
    return f"the line of {date_display(line.booked_on)}, {money(line.amount_minor, line.account.currency)}"


# Access ------------------------------------------------------------------------------------------------


@method_decorator(never_cache, name="dispatch")
class ReconciliationPageMixin(LoginRequiredMixin):
    """Finance officers and administrators only (`may_reconcile`): 404 for anyone else signed in."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not services.may_reconcile(request.user):
            raise Http404("No such page.")
        try:
            self.load(**kwargs)
        except ReconciliationNotFound as error:
            raise Http404(error.message) from None
        return super().dispatch(request, *args, **kwargs)

    def load(self, **kwargs: Any) -> None:
        """Find what the URL names (ReconciliationNotFound gives 404)."""


def ensure_accounts() -> list[ReconciliationAccount]:
    if not services.reconciliation_accounts_present():
        services.reconciliation_accounts_ensure()
    return list(reconciliation.reconciliation_accounts())


def account_url(account: ReconciliationAccount, name: str = "web:reconciliation-account") -> str:
    return reverse(name, args=[account.public_id])


# The accounts ------------------------------------------------------------------------------------------


@dataclass
class AccountSummary:
    account: ReconciliationAccount
    imports: list[tuple[StatementImport, str]]  # the latest, each with its status's tag class
    imports_count: int
    matched: int
    suggested: int
    unmatched: int
    reconciled: ReconciledPeriod | None  # the latest period reconciled


def _line_counts() -> dict[tuple[int, str], int]:
    rows = StatementLine.objects.values("account_id", "state").annotate(count=Count("pk")).order_by()
    return {(row["account_id"], row["state"]): row["count"] for row in rows}


class OverviewView(ReconciliationPageMixin, TemplateView):
    """The accounts, each with its latest statements, its lines by state, and the links to work on it."""

    template_name = "web/reconciliation/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        counts = _line_counts()
        summaries = []
        for account in ensure_accounts():
            imports = reconciliation.statement_imports(account=account)
            summaries.append(
                AccountSummary(
                    account=account,
                    imports=[(item, IMPORT_TAGS.get(item.status, "")) for item in imports[:LATEST_IMPORTS]],
                    imports_count=imports.count(),
                    matched=counts.get((account.pk, LineState.MATCHED), 0),
                    suggested=counts.get((account.pk, LineState.SUGGESTED), 0),
                    unmatched=counts.get((account.pk, LineState.UNMATCHED), 0),
                    reconciled=reconciliation.reconciled_periods(account=account).first(),
                )
            )
        context.update(summaries=summaries, closed_through=period_closed_through())
        return context


class AccountPageMixin(ReconciliationPageMixin):
    """A page about one reconciliation account (`rca` in the URL)."""

    account: ReconciliationAccount

    def load(self, **kwargs: Any) -> None:
        self.account = reconciliation.reconciliation_account_get(public_id=kwargs["rca"])


class AccountView(AccountPageMixin, TemplateView):
    """One account's statements imported, newest first, and the periods reconciled."""

    template_name = "web/reconciliation/account.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        imports = paginate(self.request, reconciliation.statement_imports(account=self.account))
        context.update(
            account=self.account,
            imports=imports,
            tagged_imports=[(item, IMPORT_TAGS.get(item.status, "")) for item in imports.object_list],
            periods=paginate(
                self.request, reconciliation.reconciled_periods(account=self.account), param="periods"
            ),
        )
        return context


# Uploading a statement ---------------------------------------------------------------------------------


class UploadView(ReconciliationPageMixin, View):
    """Choose the account, the file and its format (and a CSV's columns), then import it (POST) and go to
    the import's page. A file Purse refuses imports nothing: each problem is listed with its line."""

    template_name = "web/reconciliation/upload.html"

    def accounts(self) -> list[ReconciliationAccount]:
        return ensure_accounts()

    def chosen(
        self, accounts: list[ReconciliationAccount], public_id: str | None
    ) -> ReconciliationAccount | None:
        found = next((account for account in accounts if account.public_id == public_id), None)
        if found is None:
            # The mapping shown is the bank's: a Stripe report needs none.
            found = next((account for account in accounts if account.csv_mapping), None)
        return found

    def form(
        self, accounts: list[ReconciliationAccount], chosen: ReconciliationAccount | None, **kwargs: Any
    ):
        choices = [(account.public_id, account.name) for account in accounts]
        initial = {"account": chosen.public_id} if chosen and "data" not in kwargs else {}
        return StatementUploadForm(
            accounts=choices,
            mapping=chosen.csv_mapping if chosen else None,
            initial=initial,
            **kwargs,
        )

    def render_page(self, form: StatementUploadForm, **extra: Any) -> HttpResponse:
        context = {"form": form, "problems": [], "more": 0, "duplicate": None, **extra}
        chosen = context.get("chosen")
        # The columns are open to fill in when none are saved yet, or when one of them is wrong.
        context["mapping_open"] = (chosen is None or not chosen.csv_mapping) or any(
            name in form.errors for name in MAPPING_FIELDS
        )
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        accounts = self.accounts()
        wanted = request.GET.get("account")
        chosen = self.chosen(accounts, wanted)
        return self.render_page(self.form(accounts, chosen), chosen=chosen)

    def post(self, request: HttpRequest) -> HttpResponse:
        accounts = self.accounts()
        chosen = self.chosen(accounts, request.POST.get("account"))
        form = self.form(accounts, chosen, data=request.POST, files=request.FILES)
        if not form.is_valid():
            return self.render_page(form, chosen=chosen)
        account = next(item for item in accounts if item.public_id == form.cleaned_data["account"])
        upload = form.cleaned_data["file"]
        content = upload.read()
        file_name = upload.name or ""
        format = form.cleaned_data["format"] or None
        try:
            # The columns typed are used (and saved) only for a file read as a bank's CSV.
            is_csv = self.is_csv(content, format, file_name, has_columns=form.has_columns())
            mapping = form.mapping() if is_csv else None
            imported = services.statement_import(
                account=account,
                content=content,
                by=request.user,
                file_name=file_name,
                format=format,
                csv_mapping=mapping,
            )
        except StatementFileInvalid as error:
            form.add_error(
                "file",
                f"Purse cannot read this file ({counted(len(error.problems) + error.more, 'problem')}, "
                "listed at the top of the page), so nothing was imported. Correct the file and upload it "
                "again.",
            )
            return self.render_page(form, chosen=account, problems=error.problems, more=error.more)
        except DuplicateImport as error:
            # The domain's words, with the day written as the pages write days (no leading zero).
            first = error.first
            on = date_display(timezone.localtime(first.created_at).date())
            form.add_error(
                "file",
                f"This file was already imported on {on} as {first.public_id}; nothing was imported again.",
            )
            return self.render_page(form, chosen=account, duplicate=error.first)
        except InvalidCsvMapping as error:
            form.add_error(mapping_error_field(error.message), error.message)
            return self.render_page(form, chosen=account)
        except DomainError as error:
            field_name = getattr(error, "field", "")
            form.add_error(field_name if field_name in form.fields else "file", error.message)
            return self.render_page(form, chosen=account)
        self.say_imported(imported)
        return HttpResponseRedirect(reverse("web:reconciliation-import", args=[imported.public_id]))

    @staticmethod
    def is_csv(content: bytes, format: str | None, file_name: str, *, has_columns: bool) -> bool:
        """Whether the file will be read as a bank's CSV (so that the mapping typed is used and saved)."""
        if format is not None:
            return format == "csv"
        try:
            return statement_file_detect(content, filename=file_name) == "csv"
        except StatementFileInvalid:
            return has_columns  # the domain reads a file it cannot tell as CSV when given a mapping

    def say_imported(self, imported: StatementImport) -> None:
        found = reconciliation.statement_import_get(public_id=imported.public_id)
        already = (
            f" {counted(found.lines_already_imported, 'line was', 'lines were')} already imported from an "
            "earlier statement, so skipped."
            if found.lines_already_imported
            else ""
        )
        if found.status == ImportStatus.PROCESSING:
            messages.success(
                self.request,
                f"You imported {found.file_name or found.public_id}: {counted(found.lines_new, 'new line')}. "
                f"Purse is matching them now.{already}",
            )
            return
        messages.success(
            self.request,
            f"You imported {found.file_name or found.public_id}: {counted(found.lines_new, 'new line')}, "
            f"{found.matched} matched, {found.suggested} suggested and {found.unmatched} unmatched.{already}",
        )


# An import ---------------------------------------------------------------------------------------------


def state_tabs(base_url: str, *, current: str, counts: dict[str, int], query: dict[str, str]) -> list[dict]:
    """The filter links of a list of lines: All, Matched, Suggested, Unmatched (each with its count)."""
    tabs = []
    for state, label in STATES:
        params = {**query, **({"state": state} if state else {})}
        tabs.append(
            {
                "label": label,
                "count": counts.get(state, 0),
                "href": base_url + (f"?{urlencode(params)}" if params else ""),
                "current": state == current,
            }
        )
    return tabs


def _state(request: HttpRequest) -> str:
    state = request.GET.get("state", "")
    return state if state in LineState.values else ""


class ImportPageMixin(ReconciliationPageMixin):
    statement_import: StatementImport

    def load(self, **kwargs: Any) -> None:
        self.statement_import = reconciliation.statement_import_get(public_id=kwargs["imp"])

    def import_context(self) -> dict[str, Any]:
        imported = self.statement_import
        processing = imported.status == ImportStatus.PROCESSING
        total = imported.lines_new
        return {
            "statement_import": imported,
            "account": imported.account,
            "format_name": FORMAT_NAMES.get(imported.format, imported.format),
            "status_tag": IMPORT_TAGS.get(imported.status, "govuk-tag--grey"),
            "processing": processing,
            "percent": (100 * imported.lines_checked // total) if total else 100,
            "import_url": reverse("web:reconciliation-import", args=[imported.public_id]),
            "imported_by": names_of({imported.imported_by}).get(imported.imported_by, imported.imported_by),
        }


class ImportView(ImportPageMixin, TemplateView):
    """The import's figures and progress, and its lines (of one state, `?state=`), 50 a page; asked with
    `X-Requested-With: fetch` (the page's own polling), only the progress."""

    template_name = "web/reconciliation/import.html"
    progress_template = "web/reconciliation/_progress.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.headers.get("X-Requested-With") == "fetch":
            context = {**self.import_context(), "polled": True}
            response = render(request, self.progress_template, context)
            response["X-Purse-Running"] = "1" if context["processing"] else "0"
            return response
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.import_context())
        imported = self.statement_import
        state = _state(self.request)
        page = paginate(
            self.request,
            reconciliation.import_lines(statement_import=imported, state=state or None),
            per_page=LINES_PAGE_SIZE,
        )
        counts = {
            "": imported.matched + imported.suggested + imported.unmatched,
            LineState.MATCHED: imported.matched,
            LineState.SUGGESTED: imported.suggested,
            LineState.UNMATCHED: imported.unmatched,
        }
        context.update(
            state=state,
            state_label=dict(STATES)[state] if state else "",
            tabs=state_tabs(context["import_url"], current=state, counts=counts, query={}),
            page=page,
            rows=line_rows(list(page.object_list)),
            page_query=f"{urlencode({'state': state})}&" if state else "",
            poll_seconds=POLL_SECONDS,
        )
        return context


class AccountLinesView(AccountPageMixin, TemplateView):
    """An account's lines booked in a period (`?from=&to=`), of one state, 50 a page: the report's way to
    the suggestions waiting and the lines not matched."""

    template_name = "web/reconciliation/account_lines.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        start, end = period_from_query(self.request)
        state = _state(self.request)
        lines = reconciliation.account_lines(account=self.account, state=state or None, start=start, end=end)
        page = paginate(self.request, lines, per_page=LINES_PAGE_SIZE)
        all_lines = StatementLine.objects.filter(
            account=self.account, booked_on__gte=start, booked_on__lte=end
        )
        counts = {
            row["state"]: row["count"]
            for row in all_lines.values("state").annotate(count=Count("pk")).order_by()
        }
        counts[""] = sum(counts.values())
        period = {"from": start.isoformat(), "to": end.isoformat()}
        url = account_url(self.account, "web:reconciliation-account-lines")
        context.update(
            account=self.account,
            start=start,
            end=end,
            state=state,
            state_label=dict(STATES)[state] if state else "",
            tabs=state_tabs(url, current=state, counts=counts, query=period),
            page=page,
            rows=line_rows(list(page.object_list)),
            page_query=urlencode({**period, **({"state": state} if state else {})}) + "&",
            report_url=account_url(self.account, "web:reconciliation-report") + "?" + urlencode(period),
        )
        return context


# A line ------------------------------------------------------------------------------------------------


class LinePageMixin(ReconciliationPageMixin):
    line: StatementLine

    def load(self, **kwargs: Any) -> None:
        self.line = reconciliation.statement_line_get(public_id=kwargs["stl"])

    def line_url(self) -> str:
        return reverse("web:reconciliation-line", args=[self.line.public_id])

    def line_context(self) -> dict[str, Any]:
        line = self.line
        return {
            "line": line,
            "account": line.account,
            "statement_import": line.statement_import,
            "line_url": self.line_url(),
            "state_tag": STATE_TAGS.get(line.state, "govuk-tag--grey"),
            "matched": next((m for m in line.matches_in_force if m.status == MatchStatus.MATCHED), None),
        }

    def reload(self) -> None:
        self.line = reconciliation.statement_line_get(public_id=self.line.public_id)


class LineView(LinePageMixin, View):
    """The line, its matches in force and every match it ever had (who made and decided each, when); POST
    `confirm=<rcm>` confirms a suggestion."""

    template_name = "web/reconciliation/line.html"

    def render_page(self, form: ConfirmForm | None = None) -> HttpResponse:
        context = self.line_context()
        history = list(reconciliation.match_history(line=self.line))
        usernames = {name for match in history for name in (match.created_by, match.decided_by)}
        names = names_of(usernames)
        context.update(
            form=form,
            in_force=match_rows(self.line.matches_in_force, line=self.line, names=names),
            history=match_rows(history, line=self.line, names=names),
        )
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, stl: str) -> HttpResponse:
        return self.render_page()

    def post(self, request: HttpRequest, stl: str) -> HttpResponse:
        form = ConfirmForm(request.POST)
        wanted = request.POST.get("confirm", "")
        match = next((m for m in self.line.matches_in_force if m.public_id == wanted), None)
        if match is None:
            form.is_valid()
            form.add_error(None, "That suggestion is no longer waiting: it was decided meanwhile.")
            return self.render_page(form)
        try:
            services.match_confirm(match=match, by=request.user)
        except DomainError as error:
            form.is_valid()
            add_domain_error(form, error)
            self.reload()
            return self.render_page(form)
        messages.success(
            request,
            f"You confirmed the suggestion: {line_words(self.line)} is matched to "
            f"{counted(len(match.items.all()), 'ledger transaction')}.",
        )
        return HttpResponseRedirect(self.line_url())


@dataclass(frozen=True)
class Choice:
    public_id: str
    effective_on: date
    description: str
    amount_minor: int
    in_transit: bool


def nearby_choices(line: StatementLine) -> list[Choice]:
    """The ledger transactions not yet matched on the line's account, of the line's amount, within
    NEARBY_DAYS of it, nearest first."""
    account = line.account
    candidates = matching.candidates_load(
        account=account,
        start=line.booked_on - timedelta(days=NEARBY_DAYS),
        end=line.booked_on + timedelta(days=NEARBY_DAYS),
        ledger_account_pk=account.ledger_account_id,
        transit_pks=list(account.transit_accounts.values_list("pk", flat=True)),
        batch_keys=[],
    )
    same = [candidate for candidate in candidates if candidate.amount_minor == line.amount_minor]
    same.sort(key=lambda candidate: (abs((candidate.effective_on - line.booked_on).days), candidate.pk))
    return [
        Choice(
            public_id=candidate.public_id,
            effective_on=candidate.effective_on,
            description=candidate.description,
            amount_minor=candidate.amount_minor,
            in_transit=bool(candidate.transit_minor),
        )
        for candidate in same
    ]


class LineMatchView(LinePageMixin, View):
    """Match the line by hand (GET: the transactions of its amount near its date to tick, and a box for
    txn_ ids; POST: match them, then back to the line)."""

    template_name = "web/reconciliation/match.html"

    def form(self, choices: list[Choice], data: Any = None) -> LineMatchForm:
        currency = self.line.account.currency
        labels = [
            (
                choice.public_id,
                f"{date_display(choice.effective_on)}: {choice.description} "
                f"({money(choice.amount_minor, currency)}, {choice.public_id})",
            )
            for choice in choices
        ]
        return LineMatchForm(data, candidates=labels, nearby_days=NEARBY_DAYS)

    def render_page(self, form: LineMatchForm, choices: list[Choice]) -> HttpResponse:
        context = self.line_context()
        context.update(form=form, choices=choices, nearby_days=NEARBY_DAYS)
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, stl: str) -> HttpResponse:
        choices = nearby_choices(self.line) if self.line.state != LineState.MATCHED else []
        return self.render_page(self.form(choices), choices)

    def post(self, request: HttpRequest, stl: str) -> HttpResponse:
        choices = nearby_choices(self.line) if self.line.state != LineState.MATCHED else []
        form = self.form(choices, request.POST)
        if not form.is_valid():
            return self.render_page(form, choices)
        chosen = form.cleaned_data["chosen"]
        try:
            services.line_match(
                line=self.line, transaction_ids=chosen, by=request.user, note=form.cleaned_data["note"]
            )
        except DomainError as error:
            field_name = "transaction_ids" if getattr(error, "field", "") == "ledger_items" else None
            form.add_error(field_name, error.message)
            return self.render_page(form, choices)
        messages.success(
            request,
            f"You matched {line_words(self.line)} to {counted(len(chosen), 'ledger transaction')}.",
        )
        return HttpResponseRedirect(self.line_url())


class LineUnmatchView(LinePageMixin, View):
    """Are you sure (GET: the match, and whether undoing it moves money back to "on its way"), then undo it
    with the reason (POST) and go back to the line."""

    template_name = "web/reconciliation/unmatch.html"

    def render_page(self, form: UnmatchForm) -> HttpResponse:
        context = self.line_context()
        matched = context["matched"]
        if matched is not None:
            names = names_of({matched.created_by, matched.decided_by})
            context["matched_row"] = match_rows([matched], line=self.line, names=names)[0]
            context["in_transit_minor"] = sum(
                item.amount_minor for item in matched.items.all() if item.in_transit
            )
        context["form"] = form
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, stl: str) -> HttpResponse:
        return self.render_page(UnmatchForm())

    def post(self, request: HttpRequest, stl: str) -> HttpResponse:
        form = UnmatchForm(request.POST)
        if not form.is_valid():
            return self.render_page(form)
        if self.line.state != LineState.MATCHED:
            form.add_error(None, "This line is not matched, so there is nothing to undo.")
            return self.render_page(form)
        try:
            services.line_unmatch(line=self.line, by=request.user, note=form.cleaned_data["note"])
        except DomainError as error:
            add_domain_error(form, error, fields={"": "note"})
            self.reload()
            return self.render_page(form)
        messages.success(request, f"You unmatched {line_words(self.line)}: it is listed as unmatched again.")
        return HttpResponseRedirect(self.line_url())


class MatchRejectView(ReconciliationPageMixin, View):
    """Reject a suggestion (GET: the suggestion and an optional note; POST: reject it), back to the line."""

    template_name = "web/reconciliation/reject.html"
    match: ReconciliationMatch

    def load(self, **kwargs: Any) -> None:
        self.match = reconciliation.match_get(public_id=kwargs["rcm"])
        self.line = reconciliation.statement_line_get(public_id=self.match.line.public_id)

    def render_page(self, form: NoteForm) -> HttpResponse:
        names = names_of({self.match.created_by, self.match.decided_by})
        context = {
            "line": self.line,
            "account": self.line.account,
            "line_url": reverse("web:reconciliation-line", args=[self.line.public_id]),
            "row": match_rows([self.match], line=self.line, names=names)[0],
            "waiting": self.match.status == MatchStatus.SUGGESTED,
            "form": form,
        }
        return render(self.request, self.template_name, context)

    def note_form(self, data: Any = None) -> NoteForm:
        return NoteForm(data, hint="Why the suggestion is wrong, for whoever matches the line")

    def get(self, request: HttpRequest, rcm: str) -> HttpResponse:
        return self.render_page(self.note_form())

    def post(self, request: HttpRequest, rcm: str) -> HttpResponse:
        form = self.note_form(request.POST)
        if not form.is_valid():
            return self.render_page(form)
        try:
            services.match_reject(match=self.match, by=request.user, note=form.cleaned_data["note"])
        except DomainError as error:
            add_domain_error(form, error, fields={"": "note"})
            self.match.refresh_from_db()
            return self.render_page(form)
        messages.success(request, f"You rejected the suggestion for {line_words(self.line)}.")
        return HttpResponseRedirect(reverse("web:reconciliation-line", args=[self.line.public_id]))


# The report --------------------------------------------------------------------------------------------


def default_period() -> tuple[date, date]:
    month = previous_month(timezone.localdate())
    return month.starts_on, month.ends_on


def period_from_query(request: HttpRequest) -> tuple[date, date]:
    """`?from=&to=` (YYYY-MM-DD) as the links and downloads name a period; last month when either is left
    out or cannot be read, or when they are the wrong way round."""
    try:
        start = date.fromisoformat(request.GET.get("from", ""))
        end = date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        return default_period()
    return (start, end) if start <= end else default_period()


def period_chosen(request: HttpRequest) -> tuple[ReportPeriodForm, date | None, date | None]:
    """The period form as the request left it (the date inputs, or `from`/`to`), and the period chosen."""
    if any(
        name in request.GET
        for name in ("from_day", "from_month", "from_year", "to_day", "to_month", "to_year")
    ):
        form = ReportPeriodForm(request.GET)
        if not form.is_valid():
            return form, None, None
        return form, form.cleaned_data["from"], form.cleaned_data["to"]
    start, end = period_from_query(request)
    return ReportPeriodForm(initial={"from": start, "to": end}), start, end


def period_words(start: date, end: date) -> str:
    return f"{date_display(start)} to {date_display(end)}"


@dataclass(frozen=True)
class Explained:
    """One row of "how the difference is explained": what it is, a sentence saying so, and the amount."""

    label: str
    hint: str
    amount_minor: int


def explanation_rows(report: ReconciliationReport) -> list[Explained]:
    return [
        Explained(
            "Difference when reconciliation started",
            "The first statement's opening balance"
            + (f", on {date_display(report.started_on)}," if report.started_on else "")
            + " against the ledger's balance then",
            report.start_difference_minor,
        ),
        Explained(
            "Bank lines not matched",
            "Money the statements show moving that the ledger does not show yet",
            report.unmatched_lines_minor,
        ),
        Explained(
            "Ledger transactions not matched",
            "Money the ledger shows that the statements have not shown moving yet (taken away)",
            -report.unmatched_items_minor,
        ),
        Explained(
            "Matches across the period's end",
            "A line in the period matched to a transaction outside it, or the other way round",
            report.across_period_end_minor,
        ),
        Explained(
            "Unexplained",
            "Must be nothing before the period can be marked reconciled",
            report.unexplained_minor,
        ),
    ]


def report_problems(report: ReconciliationReport) -> list[str]:
    """What stands in the way of marking the period reconciled, as the report sees it (the service
    decides; these say so before anyone presses the button)."""
    problems = []
    if report.period_end >= timezone.localdate():
        problems.append(
            "The period has not ended yet: it can be marked reconciled from "
            f"{date_display(report.period_end + timedelta(days=1))}."
        )
    if report.lines_in_period == 0 and report.ledger_moved:
        problems.append(
            "No statement lines were imported for this period, but the ledger shows money moving: import "
            "the statement first."
        )
    if report.suggested_count:
        problems.append(
            f"{counted(report.suggested_count, 'suggested match is', 'suggested matches are')} waiting: "
            "confirm or reject each first."
        )
    if report.unexplained_minor:
        problems.append(
            f"The bank and the ledger differ by {report.money(report.unexplained_minor)} that the unmatched "
            "lines and transactions do not explain: find it first."
        )
    if report.reconciled is not None:
        problems.append(
            f"{report.account.name} is already reconciled through {date_display(report.period_end)}."
        )
    return problems


def report_context(account: ReconciliationAccount, start: date, end: date) -> dict[str, Any]:
    report = reconciliation.reconciliation_report(account=account, period_start=start, period_end=end)
    query = urlencode({"from": start.isoformat(), "to": end.isoformat()})
    reconciled_by = ""
    if report.reconciled is not None:
        reconciled_by = names_of({report.reconciled.reconciled_by}).get(
            report.reconciled.reconciled_by, report.reconciled.reconciled_by
        )
    return {
        "account": account,
        "report": report,
        "currency": account.currency,
        "start": start,
        "end": end,
        "period_words": period_words(start, end),
        "opening_difference_minor": report.bank_opening_minor - report.ledger_opening_minor,
        "explained": explanation_rows(report),
        "problems": report_problems(report),
        "reconciled_by": reconciled_by,
        "query": query,
        "limit": REPORT_LIST_LIMIT,
        "csv_url": account_url(account, "web:reconciliation-report-csv") + "?" + query,
        "pdf_url": account_url(account, "web:reconciliation-report-pdf") + "?" + query,
        "reconcile_url": account_url(account, "web:reconciliation-reconcile") + "?" + query,
        "lines_url": account_url(account, "web:reconciliation-account-lines") + "?" + query,
        "report_url": account_url(account, "web:reconciliation-report") + "?" + query,
    }


def report_title(account: ReconciliationAccount, start: date, end: date) -> str:
    return f"Reconciliation of {account.name}, {period_words(start, end)}"


class ReportView(AccountPageMixin, TemplateView):
    """The report of the account for a period (last month unless chosen), its downloads and the way to mark
    it reconciled."""

    template_name = "web/reconciliation/report.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form, start, end = period_chosen(self.request)
        context.update(account=self.account, form=form, start=start, end=end)
        if start is not None and end is not None:
            context.update(report_context(self.account, start, end))
            context["title"] = report_title(self.account, start, end)
        return context


def report_csv(report: ReconciliationReport) -> str:
    """The report as CSV: the figures (one a row), then each list of what is not matched."""
    currency = report.account.currency

    def amount(minor: int) -> str:
        return money_format(minor, currency=currency)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Reconciliation report"])
    writer.writerow(["account", report.account.name])
    writer.writerow(["account_id", report.account.public_id])
    writer.writerow(["currency", currency])
    writer.writerow(["from", report.period_start.isoformat()])
    writer.writerow(["to", report.period_end.isoformat()])
    writer.writerow([])
    writer.writerow(["figure", "amount"])
    for name, value in (
        ("bank_opening", report.bank_opening_minor),
        ("bank_balance", report.bank_balance_minor),
        ("ledger_opening", report.ledger_opening_minor),
        ("ledger_balance", report.ledger_balance_minor),
        ("difference", report.difference_minor),
        ("start_difference", report.start_difference_minor),
        ("unmatched_bank_lines", report.unmatched_lines_minor),
        ("unmatched_ledger_transactions", report.unmatched_items_minor),
        ("across_period_end", report.across_period_end_minor),
        ("unexplained", report.unexplained_minor),
        ("matched", report.matched_minor),
        ("suggested", report.suggested_minor),
        ("unmatched", report.unmatched_minor),
        ("in_transit", report.in_transit_minor),
    ):
        writer.writerow([name, amount(value)])
    writer.writerow([])
    writer.writerow(["count", "lines"])
    writer.writerow(["lines_in_period", report.lines_in_period])
    writer.writerow(["matched_lines", report.matched_count])
    writer.writerow(["suggested_lines", report.suggested_count])
    writer.writerow(["unmatched_lines", report.unmatched_count])
    writer.writerow([])
    writer.writerow(["statement_balance_problem", report.statement_balance_problem])
    writer.writerow(["reconciled", "yes" if report.reconciled else "no"])
    for title, items in (
        ("Bank lines not matched", report.unmatched_lines),
        ("Ledger transactions not matched", report.unmatched_items),
        ("Money in transit", report.in_transit),
    ):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(["date", "amount", "reference", "description", "id"])
        for item in items:
            writer.writerow(
                [item.on.isoformat(), amount(item.amount_minor), item.reference, item.description, item.id]
            )
    return out.getvalue()


def report_file_name(account: ReconciliationAccount, start: date, end: date, extension: str) -> str:
    slug = account.key.replace(":", "-").lower()
    return f"reconciliation-{slug}-{start.isoformat()}-{end.isoformat()}.{extension}"


def attachment(content: bytes | str, *, content_type: str, filename: str) -> HttpResponse:
    return HttpResponse(
        content,
        content_type=content_type,
        headers={"Content-Disposition": content_disposition_header(as_attachment=True, filename=filename)},
    )


class ReportCsvView(AccountPageMixin, View):
    def get(self, request: HttpRequest, rca: str) -> HttpResponse:
        start, end = period_from_query(request)
        report = reconciliation.reconciliation_report(
            account=self.account, period_start=start, period_end=end
        )
        return attachment(
            report_csv(report),
            content_type="text/csv; charset=utf-8",
            filename=report_file_name(self.account, start, end, "csv"),
        )


class ReportPdfView(AccountPageMixin, View):
    """The report as a tagged PDF (PDF/UA-1), from the same template as the page (statements.rendering)."""

    def get(self, request: HttpRequest, rca: str) -> HttpResponse:
        start, end = period_from_query(request)
        context = report_context(self.account, start, end)
        context["limit"] = None  # every item, not the page's first hundred
        context["generated_on"] = timezone.localdate()
        pdf = render_pdf(
            "web/reconciliation/report_pdf.html", context, title=report_title(self.account, start, end)
        )
        return attachment(
            pdf.content,
            content_type="application/pdf",
            filename=report_file_name(self.account, start, end, "pdf"),
        )


class ReconcileView(AccountPageMixin, View):
    """Are you sure (GET: the figures, what will happen to the ledger, and anything in the way), then mark
    the account reconciled for the period (POST) and go back to the report."""

    template_name = "web/reconciliation/reconcile.html"

    def render_page(self, form: NoteForm, start: date, end: date) -> HttpResponse:
        context = report_context(self.account, start, end)
        others = []
        for other in reconciliation.reconciliation_accounts():
            if other.pk == self.account.pk:
                continue
            done = reconciliation.reconciled_periods(account=other).filter(period_end__gte=end).first()
            others.append((other, done))
        context.update(form=form, others=others, closed_through=period_closed_through())
        return render(self.request, self.template_name, context)

    def note_form(self, data: Any = None) -> NoteForm:
        return NoteForm(
            data, hint="Kept with the reconciled period, for example what the unmatched lines are"
        )

    def get(self, request: HttpRequest, rca: str) -> HttpResponse:
        start, end = period_from_query(request)
        return self.render_page(self.note_form(), start, end)

    def post(self, request: HttpRequest, rca: str) -> HttpResponse:
        start, end = period_from_query(request)
        form = self.note_form(request.POST)
        if not form.is_valid():
            return self.render_page(form, start, end)
        try:
            services.period_reconcile(
                account=self.account,
                period_start=start,
                period_end=end,
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            add_domain_error(form, error, fields={"": "note", "/period_end": "note"})
            return self.render_page(form, start, end)
        closed = period_closed_through()
        message = f"You marked {self.account.name} reconciled for {period_words(start, end)}."
        if closed is not None and closed >= end:
            message += (
                f" Every account is reconciled through {date_display(end)}, so the ledger is closed through "
                f"{date_display(closed)}: nothing can be posted on or before that day."
            )
        messages.success(request, message)
        query = urlencode({"from": start.isoformat(), "to": end.isoformat()})
        return HttpResponseRedirect(account_url(self.account, "web:reconciliation-report") + "?" + query)
