"""Surplus audits, legitimate reserves and reclaim notices (issue 9, "Surplus audit and reclaim").

* **Reserves** (`/people/<per>/reserves/`): the person's navigator, or finance, sets part of the money the
  person holds aside for a known cost (a personal assistant's holiday pay), so that a surplus audit does not
  count it as reclaimable, and releases it (with a reason, after a confirmation page). Anyone else gets 404.
* **Surplus audits** (`/surplus/`, `/surplus/<CODE>/`): for finance, and for the officers of the stream's own
  agency, each person the stream funds, a page at a time: money held, weeks held, the threshold, reserves,
  what is reclaimable, notices already given and the forecast; "Give notice" (`/surplus/<CODE>/people/<per>/
  notice/`: the amount, why and from which day, then "Check and give notice" before the budget holder is
  told); the stream's notices (`/surplus/<CODE>/notices/`), each with its page (`/reclaims/<rcl>/`), from
  which it is reclaimed (a confirmation page first: it cannot be undone) or withdrawn (with a reason).
* **The budget holder's side** (`/people/<per>/reclaims/`): their notices, with the amount, the reason and
  the day; the budget holder, or a representative who may approve, replies (`.../<rcl>/reply/`). Their
  navigator and finance read the same page.

Who may see a notice is the API's rule (api/reclaims.py); pages show a form only to whoever may use it, and a
POST from someone who sees the page but may not act is refused (403). Every change is one service call; its
domain errors show in the GOV.UK error summary on the field they name, and nothing changes.
"""

from datetime import timedelta
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from budgets.models import FundingStream, LegitimateReserve
from budgets.selectors.positions import budget_positions_for_holder
from budgets.selectors.surplus import stream_holders
from budgets.services import reserves as reserve_services
from ledger.errors import DomainError
from ledger.money import money_format
from payments import selectors
from payments.models import OPEN_RECLAIM_STATUSES, ReclaimNotice, ReclaimStatus
from payments.services import reclaims as reclaim_services
from people.access import may
from people.models import Role
from plans.wording import money_display
from web.forms.reclaims import GiveNoticeForm, ReclaimForm, ReleaseForm, ReplyForm, ReserveForm, WithdrawForm
from web.views.common import PersonPageMixin, paginate

NOTICE_TAGS = {
    ReclaimStatus.NOTIFIED: "govuk-tag--yellow",
    ReclaimStatus.RESPONDED: "govuk-tag--blue",
    ReclaimStatus.WITHDRAWN: "govuk-tag--grey",
    ReclaimStatus.RECLAIMED: "govuk-tag--green",
}


# Who sees what ------------------------------------------------------------------------------------------


def _is_auditor(user: Any) -> bool:
    role = getattr(user, "role", None)
    return role == Role.FINANCE_OFFICER or (
        role == Role.AGENCY_OFFICER and getattr(user, "organisation_id", None) is not None
    )


def may_audit(user: Any, stream: FundingStream) -> bool:
    """Finance officers, and officers of the stream's own agency (who may reclaim its surpluses)."""
    if getattr(user, "role", None) == Role.FINANCE_OFFICER:
        return True
    return _is_auditor(user) and user.organisation_id == stream.agency_id


def audited_streams(user: Any) -> QuerySet[FundingStream]:
    streams = FundingStream.objects.select_related("agency").order_by("code")
    if getattr(user, "role", None) == Role.FINANCE_OFFICER:
        return streams
    if _is_auditor(user):
        return streams.filter(agency_id=user.organisation_id)
    return streams.none()


notices_visible_to = selectors.reclaim_notices_visible_to


def tagged(notices: Any) -> list[tuple[ReclaimNotice, str]]:
    return [(notice, NOTICE_TAGS.get(notice.status, "govuk-tag--grey")) for notice in notices]


def _show_error(form: Any, error: DomainError) -> None:
    """A service's error on the field it names (`InvalidReserve.field`, `InvalidReclaim.field`), or on top."""
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, error.message)


# Finance and the agencies: surplus audits and notices -----------------------------------------------------


@method_decorator(never_cache, name="dispatch")
class AuditorPageMixin(LoginRequiredMixin):
    """Finance officers and agency officers; 404 for anyone else signed in."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not _is_auditor(request.user):
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)


class StreamPageMixin(AuditorPageMixin):
    """A page about one stream's surpluses (`code` in the URL): sets `self.stream`; 404 if not theirs."""

    stream: FundingStream

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _is_auditor(request.user):
            stream = FundingStream.objects.select_related("agency").filter(code=kwargs["code"]).first()
            if stream is None or not may_audit(request.user, stream):
                raise Http404("No such funding stream.")
            self.stream = stream
        return super().dispatch(request, *args, **kwargs)


class SurplusStreamsView(AuditorPageMixin, TemplateView):
    """The streams whose surpluses the viewer audits, with how many notices are open for each."""

    template_name = "web/reclaims/streams.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        streams = list(audited_streams(self.request.user))
        open_counts = dict(
            ReclaimNotice.objects.filter(stream__in=streams, status__in=OPEN_RECLAIM_STATUSES)
            .values("stream_id")
            .annotate(count=Count("pk"))
            .values_list("stream_id", "count")
            .order_by()
        )
        context["streams"] = [(stream, open_counts.get(stream.pk, 0)) for stream in streams]
        return context


class SurplusAuditView(StreamPageMixin, TemplateView):
    """Each person the stream funds today, a page at a time, the most reclaimable first within the page."""

    template_name = "web/reclaims/audit.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = paginate(self.request, stream_holders(stream_code=self.stream.code))
        holders = list(page.object_list)
        people = {holder.public_id: holder for holder in holders}
        lines = selectors.stream_surplus_audit(stream_code=self.stream.code, holders=holders)
        context.update(
            stream=self.stream,
            page=page,
            rows=[(line, people[line.audit.budget_holder_public_id]) for line in lines],
            sees_reserves=self.request.user.role == Role.FINANCE_OFFICER,
            today=timezone.localdate(),
        )
        return context


class StreamNoticesView(StreamPageMixin, TemplateView):
    """The stream's notices, newest first."""

    template_name = "web/reclaims/stream_notices.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = paginate(self.request, selectors.reclaim_notices(stream_code=self.stream.code))
        context.update(stream=self.stream, page=page, notices=tagged(page.object_list))
        return context


class GiveNoticeView(StreamPageMixin, View):
    """The amount, why and from which day (GET, or a POST to correct), "Check and give notice" (POST), then
    give notice (POST `confirm`) and go to the notice's page."""

    form_template = "web/reclaims/give_notice.html"
    confirm_template = "web/reclaims/give_notice_confirm.html"

    def setup_person(self, per: str) -> None:
        holder = stream_holders(stream_code=self.stream.code).filter(public_id=per).first()
        if holder is None:
            raise Http404("The stream funds no such person.")
        lines = selectors.stream_surplus_audit(stream_code=self.stream.code, holders=[holder])
        if not lines:
            raise Http404("The person has no budget from this stream today.")
        self.holder, self.line = holder, lines[0]
        self.earliest = timezone.localdate() + timedelta(weeks=self.stream.reclaim_notice_weeks)

    def form(self, data: Any = None) -> GiveNoticeForm:
        initial = {"reclaim_on": self.earliest}
        if self.line.still_to_notice_minor > 0:
            initial["amount"] = money_format(self.line.still_to_notice_minor, currency=self.stream.currency)
        return GiveNoticeForm(
            data,
            currency=self.stream.currency,
            earliest=self.earliest,
            most_minor=self.line.still_to_notice_minor,
            initial=initial,
        )

    def render_page(self, template: str, form: GiveNoticeForm, **extra: Any) -> HttpResponse:
        context = {"stream": self.stream, "person": self.holder, "line": self.line, "form": form, **extra}
        return render(self.request, template, context)

    def get(self, request: HttpRequest, code: str, per: str) -> HttpResponse:
        self.setup_person(per)
        return self.render_page(self.form_template, self.form())

    def post(self, request: HttpRequest, code: str, per: str) -> HttpResponse:
        self.setup_person(per)
        form = self.form(request.POST)
        if not form.is_valid() or "change" in request.POST:
            if "change" in request.POST:
                form._errors = {}  # shown as typed, checked again when they continue
            return self.render_page(self.form_template, form)
        data = form.cleaned_data
        if "confirm" not in request.POST:
            return self.render_page(self.confirm_template, form, data=data)
        try:
            notice = reclaim_services.reclaim_notice_raise(
                budget_holder=self.holder,
                stream_code=self.stream.code,
                amount_minor=data["amount"],
                reason=data["reason"],
                reclaim_on=data["reclaim_on"],
                by=request.user,
            )
        except DomainError as error:
            _show_error(form, error)
            return self.render_page(self.form_template, form)
        messages.success(
            request,
            f"You gave {self.holder.full_name} notice that "
            f"{money_display(notice.amount_minor, currency=notice.currency)} of their {self.stream.name} "
            "money will be reclaimed. They and their navigator were emailed.",
        )
        return HttpResponseRedirect(reverse("web:reclaim", args=[notice.public_id]))


class NoticePageMixin(AuditorPageMixin):
    """A page about one notice (`rcl` in the URL), of a stream the viewer audits: sets `self.notice`."""

    notice: ReclaimNotice

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _is_auditor(request.user):
            notice = notices_visible_to(request.user).filter(public_id=kwargs["rcl"]).first()
            if notice is None:
                raise Http404("No such notice.")
            self.notice = notice
        return super().dispatch(request, *args, **kwargs)

    def notice_context(self, **extra: Any) -> dict[str, Any]:
        notice = self.notice
        today = timezone.localdate()
        is_open = notice.status in OPEN_RECLAIM_STATUSES
        return {
            "notice": notice,
            "status_tag": NOTICE_TAGS.get(notice.status, "govuk-tag--grey"),
            "is_open": is_open,
            "may_reclaim_now": is_open and today >= notice.reclaim_on,
            "today": today,
            "notice_url": reverse("web:reclaim", args=[notice.public_id]),
            **extra,
        }

    def back_to_notice(self, message: str) -> HttpResponse:
        messages.success(self.request, message)
        return HttpResponseRedirect(reverse("web:reclaim", args=[self.notice.public_id]))


class NoticeView(NoticePageMixin, TemplateView):
    """The notice, the budget holder's reply and what became of it; the ways to reclaim or withdraw."""

    template_name = "web/reclaims/notice.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.notice_context())
        return context


class NoticeReclaimView(NoticePageMixin, View):
    """Are you sure (GET: how much, from whom, and that it cannot be undone), then reclaim (POST)."""

    template_name = "web/reclaims/reclaim.html"

    def form(self, data: Any = None) -> ReclaimForm:
        initial = {"amount": money_format(self.notice.amount_minor, currency=self.notice.currency)}
        return ReclaimForm(data, currency=self.notice.currency, initial=initial)

    def get(self, request: HttpRequest, rcl: str) -> HttpResponse:
        return render(request, self.template_name, self.notice_context(form=self.form()))

    def post(self, request: HttpRequest, rcl: str) -> HttpResponse:
        form = self.form(request.POST)
        if form.is_valid():
            try:
                done = reclaim_services.reclaim_post(
                    notice=self.notice, by=request.user, amount_minor=form.cleaned_data["amount"]
                )
            except DomainError as error:
                _show_error(form, error)
            else:
                return self.back_to_notice(
                    f"You reclaimed {money_display(done.reclaimed_minor, currency=done.currency)} of "
                    f"{done.budget_holder.full_name}'s {done.stream.name} money. It is owed back to "
                    f"{done.stream.agency.name}."
                )
        self.notice.refresh_from_db()
        return render(request, self.template_name, self.notice_context(form=form))


class NoticeWithdrawView(NoticePageMixin, View):
    """Say why nothing will be reclaimed (GET, or a POST to correct), then withdraw the notice (POST)."""

    template_name = "web/reclaims/withdraw.html"

    def get(self, request: HttpRequest, rcl: str) -> HttpResponse:
        return render(request, self.template_name, self.notice_context(form=WithdrawForm()))

    def post(self, request: HttpRequest, rcl: str) -> HttpResponse:
        form = WithdrawForm(request.POST)
        if form.is_valid():
            try:
                reclaim_services.reclaim_notice_withdraw(
                    notice=self.notice, by=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                _show_error(form, error)
            else:
                return self.back_to_notice(
                    "You withdrew the notice: nothing will be reclaimed from "
                    f"{self.notice.budget_holder.full_name} under it. They can read why on their timeline."
                )
        self.notice.refresh_from_db()
        return render(request, self.template_name, self.notice_context(form=form))


# The budget holder's side -------------------------------------------------------------------------------


class PersonNoticesView(PersonPageMixin, TemplateView):
    """The person's notices about unspent money, newest first, with a link to reply to each open one."""

    template_name = "web/reclaims/person_notices.html"
    person_tab = "web:person-reclaims"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        notices = notices_visible_to(self.request.user).filter(budget_holder=self.person)
        page = paginate(self.request, notices)
        context.update(page=page, notices=tagged(page.object_list), open_statuses=OPEN_RECLAIM_STATUSES)
        return context


class PersonNoticeReplyView(PersonPageMixin, View):
    """The notice and a box for the reply (GET, or a POST to correct); send it (POST)."""

    template_name = "web/reclaims/reply.html"
    person_tab = "web:person-reclaims"

    def setup_notice(self, rcl: str) -> ReclaimNotice:
        notice = (
            notices_visible_to(self.request.user).filter(budget_holder=self.person, public_id=rcl).first()
        )
        if notice is None:
            raise Http404("No such notice.")
        self.require_may_act()
        return notice

    def render_page(self, notice: ReclaimNotice, form: ReplyForm) -> HttpResponse:
        context = {
            **self.person_context(),
            "notice": notice,
            "form": form,
            "is_open": notice.status in OPEN_RECLAIM_STATUSES,
            "status_tag": NOTICE_TAGS.get(notice.status, "govuk-tag--grey"),
        }
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, per: str, rcl: str) -> HttpResponse:
        return self.render_page(self.setup_notice(rcl), ReplyForm())

    def post(self, request: HttpRequest, per: str, rcl: str) -> HttpResponse:
        notice = self.setup_notice(rcl)
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                reclaim_services.reclaim_notice_respond(
                    notice=notice, text=form.cleaned_data["response"], by=request.user
                )
            except DomainError as error:
                _show_error(form, error)
            else:
                messages.success(
                    request,
                    f"Your reply was sent to {notice.stream.agency.name}. They will read it before deciding.",
                )
                return HttpResponseRedirect(reverse("web:person-reclaims", args=[self.person.public_id]))
        notice.refresh_from_db()
        return self.render_page(notice, form)


# Reserves -----------------------------------------------------------------------------------------------


class _MaySetReserves:
    """After PersonPageMixin has found the person: 404 unless the viewer may set their reserves."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may(request.user, "budgets.set_reserve", self.person):  # type: ignore[attr-defined]
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class ReservePageMixin(PersonPageMixin, _MaySetReserves):
    """The person's navigator and finance only: 404 for anyone else, as if the page did not exist.

    PersonPageMixin's dispatch (after the sign-in check) goes on to _MaySetReserves', the person found."""

    person_tab = "web:reserves"


class ReservesView(ReservePageMixin, View):
    """What the person holds per stream and what is set aside (GET); set more aside (POST)."""

    template_name = "web/reclaims/reserves.html"

    @cached_property
    def positions(self) -> list[Any]:
        """The person's budget positions today, one per stream they hold money for."""
        return budget_positions_for_holder(budget_holder=self.person, on=timezone.localdate())

    def streams(self) -> list[tuple[str, str, str]]:
        return [
            (position.stream_code, f"{position.stream_name} ({position.stream_code})", position.currency)
            for position in self.positions
        ]

    def render_page(self, form: ReserveForm | None) -> HttpResponse:
        positions = self.positions
        reserves = LegitimateReserve.objects.filter(budget_holder=self.person).select_related(
            "stream", "entered_by", "released_by"
        )
        set_aside: dict[str, int] = {}
        for code, amount in reserves.filter(released_at__isnull=True).values_list(
            "stream__code", "amount_minor"
        ):
            set_aside[code] = set_aside.get(code, 0) + amount
        held = [
            (
                position,
                set_aside.get(position.stream_code, 0),
                max(0, position.available_minor - set_aside.get(position.stream_code, 0)),
            )
            for position in positions
        ]
        page = paginate(self.request, reserves.order_by("-created_at", "-pk"))
        context = {**self.person_context(), "held": held, "page": page, "form": form}
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, per: str) -> HttpResponse:
        streams = self.streams()
        return self.render_page(ReserveForm(streams=streams) if streams else None)

    def post(self, request: HttpRequest, per: str) -> HttpResponse:
        form = ReserveForm(request.POST, streams=self.streams())
        if form.is_valid():
            stream = FundingStream.objects.get(code=form.cleaned_data["stream"])
            try:
                reserve = reserve_services.reserve_set(
                    budget_holder=self.person,
                    stream=stream,
                    amount_minor=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except DomainError as error:
                _show_error(form, error)
            else:
                messages.success(
                    request,
                    f"You set aside {money_display(reserve.amount_minor, currency=reserve.currency)} of "
                    f"{self.person.name_to_use}'s {stream.name} money: {reserve.reason}",
                )
                return HttpResponseRedirect(reverse("web:reserves", args=[self.person.public_id]))
        return self.render_page(form)


class ReserveReleaseView(ReservePageMixin, View):
    """Are you sure, and why (GET, or a POST to correct); release the reserve (POST)."""

    template_name = "web/reclaims/reserve_release.html"

    def setup_reserve(self, rsv: str) -> LegitimateReserve:
        reserve = (
            LegitimateReserve.objects.filter(budget_holder=self.person, public_id=rsv)
            .select_related("stream", "entered_by", "released_by")
            .first()
        )
        if reserve is None:
            raise Http404("No such reserve.")
        return reserve

    def render_page(self, reserve: LegitimateReserve, form: ReleaseForm) -> HttpResponse:
        context = {**self.person_context(), "reserve": reserve, "form": form}
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, per: str, rsv: str) -> HttpResponse:
        return self.render_page(self.setup_reserve(rsv), ReleaseForm())

    def post(self, request: HttpRequest, per: str, rsv: str) -> HttpResponse:
        reserve = self.setup_reserve(rsv)
        form = ReleaseForm(request.POST)
        if form.is_valid():
            try:
                reserve_services.reserve_release(
                    reserve=reserve, by=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                _show_error(form, error)
            else:
                messages.success(
                    request,
                    f"You released {money_display(reserve.amount_minor, currency=reserve.currency)} set "
                    f"aside for: {reserve.reason} It now counts in the surplus audit again.",
                )
                return HttpResponseRedirect(reverse("web:reserves", args=[self.person.public_id]))
        reserve.refresh_from_db()
        return self.render_page(reserve, form)
