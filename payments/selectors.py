"""Reading payment runs, payments, Bacs files, warnings and funding received. Who may read them is decided
by `payments.access`; these functions take what the caller may see."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone

from budgets.models import Instalment, InstalmentStatus
from ledger.errors import DomainError
from payments.models import (
    BacsFile,
    FundingReceipt,
    Payment,
    PaymentInvoice,
    PaymentRun,
    PaymentStatus,
)


class PaymentRunNotFound(DomainError):
    code = "not_found"
    http_status = 404
    message = "There is no such payment run."


class PaymentNotFound(DomainError):
    code = "not_found"
    http_status = 404
    message = "There is no such payment."


class BacsFileNotFound(DomainError):
    code = "not_found"
    http_status = 404
    message = "There is no such Bacs file."


def run_list() -> QuerySet[PaymentRun]:
    return PaymentRun.objects.select_related("created_by").order_by("-pk")


def run_get(*, public_id: str) -> PaymentRun:
    run = PaymentRun.objects.select_related("created_by").filter(public_id=public_id).first()
    if run is None:
        raise PaymentRunNotFound()
    return run


@dataclass(frozen=True)
class RunProgress:
    """How far a run has gone: payments by status, and the money in each."""

    total: int
    by_status: dict[str, int]
    money_by_status: dict[str, int]

    @property
    def finished(self) -> int:
        """Payments that are no longer waiting to be sent (sent, paid, in a file, failed...)."""
        return self.total - self.by_status.get(PaymentStatus.PENDING, 0)

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else (100 * self.finished) // self.total


def run_progress(*, run: PaymentRun) -> RunProgress:
    rows = run.payment_set.values("status").annotate(count=Count("pk"), money=Sum("amount_minor")).order_by()
    by_status = {row["status"]: row["count"] for row in rows}
    return RunProgress(
        total=sum(by_status.values()),
        by_status=by_status,
        money_by_status={row["status"]: row["money"] or 0 for row in rows},
    )


def run_payments(*, run: PaymentRun) -> QuerySet[Payment]:
    """The run's payments (page them), with their provider and how many invoices each pays."""
    return (
        run.payment_set.select_related("provider", "remittance", "bacs_file")
        .annotate(invoice_count=Count("lines"))
        .order_by("pk")
    )


def payment_get(*, public_id: str) -> Payment:
    payment = (
        Payment.objects.select_related("run", "provider", "remittance").filter(public_id=public_id).first()
    )
    if payment is None:
        raise PaymentNotFound()
    return payment


def payment_invoices(*, payment: Payment) -> QuerySet[PaymentInvoice]:
    return payment.lines.select_related("invoice").order_by("invoice__invoice_number", "pk")


def bacs_file_get(*, public_id: str) -> BacsFile:
    found = BacsFile.objects.select_related("run").filter(public_id=public_id).first()
    if found is None:
        raise BacsFileNotFound()
    return found


def payment_warnings() -> QuerySet[Payment]:
    """Payments that failed or were reversed and that finance has not yet acknowledged, newest first."""
    return (
        Payment.objects.filter(
            status__in=(PaymentStatus.FAILED, PaymentStatus.REVERSED), warning_acknowledged_at__isnull=True
        )
        .select_related("provider", "run")
        .order_by("-failed_at", "-pk")
    )


def _in_streams(
    found: QuerySet, *, stream_code: str | None, streams: QuerySet | None, field: str
) -> QuerySet:
    """Narrow `found` to one stream (by code) and to the streams the caller may see (a queryset)."""
    if stream_code:
        found = found.filter(**{f"{field}__code": stream_code})
    if streams is not None:
        found = found.filter(**{f"{field}__in": streams})
    return found


def instalments_late(
    *, on: date | None = None, stream_code: str | None = None, streams: QuerySet | None = None
) -> QuerySet[Instalment]:
    """Instalments that fell due before `on` (default today) that the agency has not paid, oldest first;
    of one stream (`stream_code`) and of the streams the caller sees (`streams`), when given."""
    on = on or timezone.localdate()
    found = Instalment.objects.filter(status=InstalmentStatus.DUE, due_on__lt=on)
    found = _in_streams(found, stream_code=stream_code, streams=streams, field="personal_budget__stream")
    return found.select_related("personal_budget__stream", "personal_budget__budget_holder").order_by(
        "due_on", "pk"
    )


def instalments_receivable(*, stream_code: str) -> QuerySet[Instalment]:
    """A stream's instalments that fell due and are not yet received (what a receipt can be for), oldest
    first."""
    return (
        Instalment.objects.filter(status=InstalmentStatus.DUE, personal_budget__stream__code=stream_code)
        .select_related("personal_budget__stream", "personal_budget__budget_holder")
        .order_by("due_on", "pk")
    )


def late_totals(*, on: date | None = None, streams: QuerySet | None = None) -> list[dict[str, Any]]:
    """Per stream and currency: how many instalments are late, how much they come to and the oldest due day
    (one grouped query), by stream code."""
    on = on or timezone.localdate()
    found = _in_streams(
        Instalment.objects.filter(status=InstalmentStatus.DUE, due_on__lt=on),
        stream_code=None,
        streams=streams,
        field="personal_budget__stream",
    )
    return list(
        found.values(
            "personal_budget__stream__code", "personal_budget__stream__name", "personal_budget__currency"
        )
        .annotate(count=Count("pk"), total_minor=Sum("amount_minor"), oldest=Min("due_on"))
        .order_by("personal_budget__stream__code", "personal_budget__currency")
    )


def funding_receipts(
    *, stream_code: str | None = None, streams: QuerySet | None = None
) -> QuerySet[FundingReceipt]:
    """Funding receipts, the latest received first, with how many instalments each paid (page them; for
    their instalments, `prefetch_related("instalments")` costs one query a page)."""
    found = _in_streams(
        FundingReceipt.objects.select_related("stream", "recorded_by"),
        stream_code=stream_code,
        streams=streams,
        field="stream",
    )
    return found.annotate(instalment_count=Count("instalments")).order_by("-received_on", "-pk")


def funding_receipt_get(*, public_id: str) -> FundingReceipt | None:
    return (
        FundingReceipt.objects.select_related("stream", "recorded_by")
        .annotate(instalment_count=Count("instalments"))
        .filter(public_id=public_id)
        .first()
    )


def receipt_instalments(*, receipt: FundingReceipt) -> QuerySet[Instalment]:
    """The instalments a receipt paid, oldest first, with their person."""
    return receipt.instalments.select_related("personal_budget__budget_holder").order_by("due_on", "pk")


# What a payment run would do now (the finance pages' "Check and confirm") -------------------------------

SKIPPED_SHOWN = 50  # the skipped providers a preview names; the rest are counted


@dataclass(frozen=True)
class RailPreview:
    """What a run started now would pay by one rail."""

    rail: str
    label: str
    providers: int
    invoices: int
    total_minor: int


@dataclass(frozen=True)
class SkippedPreview:
    """A provider a run started now would not pay, and why (the same reasons the run records)."""

    provider: str
    name: str
    invoices: int
    total_minor: int
    reason: str


@dataclass(frozen=True)
class RunPreview:
    currency: str
    rails: list[RailPreview]
    skipped: list[SkippedPreview]  # the first SKIPPED_SHOWN, by name
    skipped_providers: int
    skipped_invoices: int
    skipped_total_minor: int
    stripe_on: bool
    bacs_on: bool

    @property
    def invoices(self) -> int:
        return sum(rail.invoices for rail in self.rails)

    @property
    def providers(self) -> int:
        return sum(rail.providers for rail in self.rails)

    @property
    def total_minor(self) -> int:
        return sum(rail.total_minor for rail in self.rails)


def _preview_outcome(method: str | None, *, currency: str, stripe_on: bool, bacs_on: bool) -> tuple[str, str]:
    """(rail, "") for a payout method a run would pay now, or ("", the reason it would skip it), as
    `payments.services.runs` decides when it makes a run."""
    from payments.models import Rail
    from payments.services.runs import BacsNotConfigured
    from payments.stripe_gateway import StripeDisabled
    from people.models import PayoutMethod

    if method == PayoutMethod.STRIPE:
        return (Rail.STRIPE, "") if stripe_on else ("", StripeDisabled.message)
    if method == PayoutMethod.BANK:
        if not bacs_on:
            return "", BacsNotConfigured.message
        if currency != "GBP":
            return "", "Bacs pays in pounds only."
        return Rail.BACS, ""
    return "", "The provider has not set up how it is paid."


def payment_run_preview(*, currency: str = "GBP") -> RunPreview:
    """What a payment run started now would pay: the approved invoices no payment holds, per rail (how many
    providers and invoices, and the total), and the providers it would skip and why. Two grouped queries,
    whatever the number of invoices or providers."""
    from django.conf import settings
    from django.db.models import F, Q

    from invoicing.models import Invoice, InvoiceStatus
    from payments import stripe_gateway
    from payments.models import Rail

    stripe_on = stripe_gateway.stripe_enabled()
    bacs_on = all(
        (
            settings.BACS_SERVICE_USER_NUMBER,
            settings.BACS_SORT_CODE,
            settings.BACS_ACCOUNT_NUMBER,
            settings.BACS_ACCOUNT_NAME,
        )
    )
    held = PaymentInvoice.objects.filter(holding=True).values("invoice_id")
    claimable = Invoice.objects.filter(status=InvoiceStatus.APPROVED, currency=currency).exclude(pk__in=held)
    by_method = (
        claimable.values(method=F("provider__provider_details__payout_method"))
        .annotate(
            providers=Count("provider_id", distinct=True), invoices=Count("pk"), total=Sum("total_minor")
        )
        .order_by()
    )
    rails: dict[str, RailPreview] = {}
    skipped_methods: dict[str | None, str] = {}
    skipped_providers = skipped_invoices = skipped_total = 0
    for row in by_method:
        rail, reason = _preview_outcome(
            row["method"], currency=currency, stripe_on=stripe_on, bacs_on=bacs_on
        )
        if reason:
            skipped_methods[row["method"]] = reason
            skipped_providers += row["providers"]
            skipped_invoices += row["invoices"]
            skipped_total += row["total"] or 0
            continue
        before = rails.get(rail)
        rails[rail] = RailPreview(
            rail=rail,
            label=Rail(rail).label,
            providers=row["providers"] + (before.providers if before else 0),
            invoices=row["invoices"] + (before.invoices if before else 0),
            total_minor=(row["total"] or 0) + (before.total_minor if before else 0),
        )
    skipped: list[SkippedPreview] = []
    if skipped_methods:
        methods = [method for method in skipped_methods if method is not None]
        condition = Q(provider__provider_details__payout_method__in=methods)
        if None in skipped_methods:
            condition |= Q(provider__provider_details__isnull=True)
        for row in (
            claimable.filter(condition)
            .values(
                "provider__public_id",
                "provider__name",
                method=F("provider__provider_details__payout_method"),
            )
            .annotate(invoices=Count("pk"), total=Sum("total_minor"))
            .order_by("provider__name", "provider__public_id")[:SKIPPED_SHOWN]
        ):
            skipped.append(
                SkippedPreview(
                    provider=row["provider__public_id"],
                    name=row["provider__name"],
                    invoices=row["invoices"],
                    total_minor=row["total"] or 0,
                    reason=skipped_methods[row["method"]],
                )
            )
    order = {Rail.STRIPE: 0, Rail.BACS: 1}
    return RunPreview(
        currency=currency,
        rails=sorted(rails.values(), key=lambda rail: order.get(rail.rail, 9)),
        skipped=skipped,
        skipped_providers=skipped_providers,
        skipped_invoices=skipped_invoices,
        skipped_total_minor=skipped_total,
        stripe_on=stripe_on,
        bacs_on=bacs_on,
    )


def payment_run_running(*, currency: str = "GBP") -> PaymentRun | None:
    """The payment run still paying, if there is one (there is at most one per currency)."""
    from payments.models import PaymentRunStatus

    return PaymentRun.objects.filter(status=PaymentRunStatus.RUNNING, currency=currency).first()


def run_bacs_file(*, run: PaymentRun) -> BacsFile | None:
    """The run's Bacs file, if it has one, without its content (download it with `bacs_file_content`)."""
    return BacsFile.objects.filter(run=run).defer("content").select_related("decided_by").first()


def run_skipped(*, run: PaymentRun) -> list[dict[str, Any]]:
    """The providers the run could not pay, as the run recorded them ({provider, name, invoices, reason})."""
    return list(run.skipped or [])


# Surplus reclaims ----------------------------------------------------------------------------------------


def reclaim_notices(
    *, stream_code: str | None = None, budget_holder: Any = None, open_only: bool = False
) -> QuerySet:
    """Reclaim notices, newest first, of a stream and/or a person; `open_only`: still open ones."""
    from payments.models import OPEN_RECLAIM_STATUSES, ReclaimNotice

    notices = ReclaimNotice.objects.select_related("budget_holder", "stream__agency", "raised_by")
    if stream_code is not None:
        notices = notices.filter(stream__code=stream_code)
    if budget_holder is not None:
        notices = notices.filter(budget_holder=budget_holder)
    if open_only:
        notices = notices.filter(status__in=OPEN_RECLAIM_STATUSES)
    return notices.order_by("-raised_at", "-pk")


def reclaim_notice_get(*, public_id: str) -> Any:
    """One reclaim notice by its id (raises ReclaimNotice.DoesNotExist)."""
    from payments.models import ReclaimNotice

    return ReclaimNotice.objects.select_related("budget_holder", "stream__agency", "raised_by").get(
        public_id=public_id
    )


@dataclass(frozen=True)
class StreamSurplusLine:
    audit: Any  # budgets.selectors.surplus.SurplusAudit
    noticed_minor: int  # open notices' amounts: already announced, not yet reclaimed

    @property
    def still_to_notice_minor(self) -> int:
        return max(0, self.audit.reclaimable_minor - self.noticed_minor)


def stream_surplus_audit(
    *, stream_code: str, holders: list[Any], on: date | None = None
) -> list[StreamSurplusLine]:
    """The surplus audits of a page of the stream's people (`budgets.selectors.surplus.stream_holders`),
    with what open notices already cover; a fixed number of queries."""
    from budgets.selectors.surplus import surplus_audits
    from payments.models import OPEN_RECLAIM_STATUSES, ReclaimNotice

    audits = surplus_audits(holders=holders, stream_code=stream_code, on=on)
    noticed = dict(
        ReclaimNotice.objects.filter(
            stream__code=stream_code, budget_holder__in=holders, status__in=OPEN_RECLAIM_STATUSES
        )
        .values("budget_holder__public_id")
        .annotate(total=Sum("amount_minor"))
        .values_list("budget_holder__public_id", "total")
        .order_by()
    )
    return [
        StreamSurplusLine(audit=audit, noticed_minor=int(noticed.get(audit.budget_holder_public_id, 0)))
        for audit in audits
    ]


def reclaim_notices_visible_to(user: Any) -> QuerySet:
    """The reclaim notices `user` may see, newest first: finance and administrators all; an agency officer
    their agency's streams'; a navigator their people's; a budget holder theirs, and a representative those
    of whom they act for (the pages and the API both ask here)."""
    from people.models import Representative, Role

    notices = reclaim_notices().select_related("responded_by", "withdrawn_by", "reclaimed_by")
    role = getattr(user, "role", None)
    if role in (Role.FINANCE_OFFICER, Role.ADMINISTRATOR):
        return notices
    if role == Role.AGENCY_OFFICER and getattr(user, "organisation_id", None) is not None:
        return notices.filter(stream__agency_id=user.organisation_id)
    if role == Role.NAVIGATOR:
        return notices.filter(budget_holder__navigator_id=user.pk)
    if role in (Role.BUDGET_HOLDER, Role.REPRESENTATIVE):
        represented = Representative.objects.active().filter(user_id=user.pk).values("budget_holder_id")
        return notices.filter(Q(budget_holder__user_id=user.pk) | Q(budget_holder_id__in=represented))
    return notices.none()
