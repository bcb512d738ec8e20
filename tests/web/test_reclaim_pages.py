"""The surplus and reclaim pages (web/views/reclaims.py): a person's reserves (navigator and finance), the
surplus audit and notices (finance and the stream's agency), the budget holder's notices and reply. Who sees
each page (404 for anyone else, 403 for someone who sees it but may not act), the error summary with
nothing changed, the confirmation pages before giving notice, reclaiming and releasing, paging and queries.
The browser tests (320px and 1280px, axe, keyboard) are in tests/browser/test_reclaims_browser.py.

"Today" is 20 November 2026 (tests/invoicing/world.py). Alex holds 9,000.00 of ASC money: threshold 8 weeks
of 250.00 = 2,000.00, so 7,000.00 is reclaimable; ASC gives 4 weeks' notice (18 December 2026 at the
earliest). Sam is funded by DFG.
"""

import html as html_text
import re
from datetime import date

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets.models import FundingStream, LegitimateReserve
from budgets.services.personal_budgets import personal_budget_create
from budgets.services.reserves import reserve_set
from ledger.models import Transaction
from payments.models import ReclaimNotice, ReclaimStatus
from payments.services.reclaims import reclaim_notice_raise
from tests.people.factories import BudgetHolderFactory
from tests.web.roles import sign_in_role

pytestmark = pytest.mark.django_db

SURPLUS = reverse("web:surplus")
AUDIT_ASC = reverse("web:surplus-audit", args=["ASC"])
NOTICES_ASC = reverse("web:surplus-notices", args=["ASC"])
EARLIEST = date(2026, 12, 18)


def signed_in(client, sign_in_verified, world, role: str):
    sign_in_role(client, sign_in_verified, world.users[role], role)
    return client


def text(response) -> str:
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def error_summary(response) -> str:
    page = response.content.decode()
    assert 'class="govuk-error-summary"' in page, "no error summary"
    start = page.index('class="govuk-error-summary"')
    return html_text.unescape(
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[start : page.index("</ul>", start)]))
    )


def alex(world):
    return world.base.alex


def give_url(world, code="ASC", holder=None) -> str:
    return reverse("web:surplus-give-notice", args=[code, (holder or alex(world)).public_id])


def person_notices(world, holder=None) -> str:
    return reverse("web:person-reclaims", args=[(holder or alex(world)).public_id])


def reserves_url(world) -> str:
    return reverse("web:reserves", args=[alex(world).public_id])


def notice_for(world, holder=None, *, stream="ASC", amount=100_000) -> ReclaimNotice:
    return reclaim_notice_raise(
        budget_holder=holder or alex(world),
        stream_code=stream,
        amount_minor=amount,
        reason="Unspent for months.",
        by=world.users["finance"],
    )


def reserve_for(world, amount=50_000) -> LegitimateReserve:
    return reserve_set(
        budget_holder=alex(world),
        stream=FundingStream.objects.get(code="ASC"),
        amount_minor=amount,
        reason="Holiday pay for the PA.",
        by=world.users["navigator"],
    )


def notice_form(**fields) -> dict:
    return {
        "amount": "1,000",
        "reason": "Unspent for months.",
        "reclaim_on_day": "18",
        "reclaim_on_month": "12",
        "reclaim_on_year": "2026",
        **fields,
    }


def state() -> tuple:
    return (
        ReclaimNotice.objects.count(),
        sorted(ReclaimNotice.objects.values_list("status", "response", "withdrawal_reason")),
        LegitimateReserve.objects.count(),
        LegitimateReserve.objects.filter(released_at__isnull=False).count(),
        Transaction.objects.count(),
        len(mail.outbox),
    )


def staff_urls(notice: ReclaimNotice) -> list[str]:
    return [
        SURPLUS,
        reverse("web:surplus-audit", args=[notice.stream.code]),
        reverse("web:surplus-notices", args=[notice.stream.code]),
        reverse("web:surplus-give-notice", args=[notice.stream.code, notice.budget_holder.public_id]),
        reverse("web:reclaim", args=[notice.public_id]),
        reverse("web:reclaim-post", args=[notice.public_id]),
        reverse("web:reclaim-withdraw", args=[notice.public_id]),
    ]


class TestWhoSees:
    def test_finance_sees_every_streams_pages_and_the_reserves(self, client, sign_in_verified, world):
        asc, dfg = notice_for(world), notice_for(world, world.base.sam, stream="DFG", amount=1000)
        signed_in(client, sign_in_verified, world, "finance")
        for url in [*staff_urls(asc), *staff_urls(dfg), reserves_url(world), person_notices(world)]:
            assert client.get(url).status_code == 200, url

    def test_an_officer_sees_their_own_agencys_streams_only(self, client, sign_in_verified, world):
        asc, dfg = notice_for(world), notice_for(world, world.base.sam, stream="DFG", amount=1000)
        signed_in(client, sign_in_verified, world, "officer_asc")
        for url in staff_urls(asc):
            assert client.get(url).status_code == 200, url
        for url in staff_urls(dfg)[1:]:
            assert client.get(url).status_code == 404, url
        streams = text(client.get(SURPLUS))
        assert "Adult Social Care (ASC)" in streams and "DFG" not in streams
        audit = client.get(AUDIT_ASC).content.decode()
        assert f'href="{reserves_url(world)}"' not in audit  # the reserves are the navigator's and finance's
        assert client.get(reserves_url(world)).status_code == 404
        assert client.get(person_notices(world)).status_code == 404  # the person's pages are not theirs

    def test_another_agencys_officer_gets_not_found_and_changes_nothing(
        self, client, sign_in_verified, world
    ):
        notice = notice_for(world)
        signed_in(client, sign_in_verified, world, "officer_atw")
        for url in staff_urls(notice)[1:]:
            assert client.get(url).status_code == 404, url
        before = state()
        assert client.post(give_url(world), notice_form(confirm="yes")).status_code == 404
        assert (
            client.post(
                reverse("web:reclaim-withdraw", args=[notice.public_id]), {"reason": "No"}
            ).status_code
            == 404
        )
        assert state() == before

    @pytest.mark.parametrize(
        "role",
        [
            "holder",
            "other_holder",
            "rep_approve",
            "rep_view",
            "navigator",
            "other_navigator",
            "provider_engaged",
            "admin",
        ],
    )
    def test_everyone_else_gets_not_found_on_the_staff_pages(self, client, sign_in_verified, world, role):
        notice = notice_for(world)
        signed_in(client, sign_in_verified, world, role)
        for url in staff_urls(notice):
            assert client.get(url).status_code == 404, url
        before = state()
        world.clock.today = EARLIEST
        assert client.post(give_url(world), notice_form(confirm="yes")).status_code == 404
        assert (
            client.post(
                reverse("web:reclaim-post", args=[notice.public_id]), {"amount": "1000.00"}
            ).status_code
            == 404
        )
        assert state() == before

    @pytest.mark.parametrize("role", ["holder", "rep_approve", "rep_view", "navigator", "finance", "admin"])
    def test_the_persons_side_reads_their_notices(self, client, sign_in_verified, world, role):
        notice_for(world)
        signed_in(client, sign_in_verified, world, role)
        response = client.get(person_notices(world))
        assert response.status_code == 200
        assert "£1,000.00 of Adult Social Care money" in text(response)

    @pytest.mark.parametrize(
        "role", ["other_holder", "rep_revoked", "other_navigator", "officer_asc", "provider_engaged"]
    )
    def test_anyone_else_does_not_find_the_persons_notices(self, client, sign_in_verified, world, role):
        notice = notice_for(world)
        signed_in(client, sign_in_verified, world, role)
        assert client.get(person_notices(world)).status_code == 404
        reply = reverse("web:person-reclaim-reply", args=[alex(world).public_id, notice.public_id])
        before = state()
        assert client.post(reply, {"response": "No."}).status_code == 404
        assert state() == before

    @pytest.mark.parametrize("role", ["rep_view", "navigator", "finance"])
    def test_who_reads_the_notice_but_may_not_reply_is_refused(self, client, sign_in_verified, world, role):
        notice = notice_for(world)
        signed_in(client, sign_in_verified, world, role)
        assert "Reply to this notice" not in text(client.get(person_notices(world)))
        reply = reverse("web:person-reclaim-reply", args=[alex(world).public_id, notice.public_id])
        before = state()
        assert client.get(reply).status_code == 403
        assert client.post(reply, {"response": "No."}).status_code == 403
        assert state() == before

    @pytest.mark.parametrize(
        "role",
        [
            "holder",
            "rep_approve",
            "rep_view",
            "other_holder",
            "other_navigator",
            "officer_asc",
            "provider_engaged",
            "admin",
        ],
    )
    def test_the_reserves_are_the_navigators_and_finances_only(self, client, sign_in_verified, world, role):
        reserve = reserve_for(world)
        signed_in(client, sign_in_verified, world, role)
        release = reverse("web:reserve-release", args=[alex(world).public_id, reserve.public_id])
        before = state()
        assert client.get(reserves_url(world)).status_code == 404
        assert client.get(release).status_code == 404
        assert (
            client.post(reserves_url(world), {"stream": "ASC", "amount": "1", "reason": "Why"}).status_code
            == 404
        )
        assert client.post(release, {"reason": "Why"}).status_code == 404
        assert state() == before

    def test_anonymous_is_sent_to_sign_in(self, client, world):
        notice = notice_for(world)
        for url in [*staff_urls(notice), reserves_url(world), person_notices(world)]:
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("web:sign-in")), (
                url
            )

    def test_unknown_streams_people_and_notices_are_not_found(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "finance")
        assert client.get(reverse("web:surplus-audit", args=["NOPE"])).status_code == 404
        assert client.get(give_url(world, holder=world.base.sam)).status_code == 404  # ASC does not fund Sam
        assert client.get(reverse("web:reclaim", args=["rcl_nothing"])).status_code == 404
        assert (
            client.get(reverse("web:reserve-release", args=[alex(world).public_id, "rsv_no"])).status_code
            == 404
        )

    def test_the_navigation_leads_there(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "finance")
        assert f'href="{SURPLUS}"' in client.get(reverse("web:home")).content.decode()
        client.logout()
        signed_in(client, sign_in_verified, world, "officer_asc")
        assert f'href="{SURPLUS}"' in client.get(reverse("web:approvals")).content.decode()
        client.logout()
        signed_in(client, sign_in_verified, world, "navigator")
        tabs = client.get(reverse("web:person-home", args=[alex(world).public_id])).content.decode()
        assert f'href="{reserves_url(world)}"' in tabs and f'href="{person_notices(world)}"' in tabs
        client.logout()
        signed_in(client, sign_in_verified, world, "holder")
        home = client.get(reverse("web:person-home", args=[alex(world).public_id])).content.decode()
        assert f'href="{person_notices(world)}"' in home and "Unspent money" in home


class TestTheSurplusAudit:
    def test_each_persons_figures_and_what_to_do(self, client, sign_in_verified, world):
        reserve_for(world, amount=50_000)
        notice_for(world, amount=100_000)
        signed_in(client, sign_in_verified, world, "finance")

        page = text(client.get(AUDIT_ASC))

        assert "Surplus audit of Adult Social Care" in page
        assert f"{alex(world).full_name} {alex(world).public_id}" in page
        assert "Money held £9,000.00 (36.0 weeks of a £250.00 weekly budget)" in page
        assert "Threshold £2,000.00 (8.0 weeks)" in page
        assert "Set aside £500.00" in page
        assert "Reclaimable now £6,500.00" in page
        assert "Notice already given £1,000.00" in page
        assert "Forecast There is a surplus now." in page
        assert f"Give notice to {alex(world).full_name} (up to £5,500.00)" in page
        assert f'href="{reserves_url(world)}"' in client.get(AUDIT_ASC).content.decode()

    def test_paged_by_person_in_a_fixed_number_of_queries(self, client, sign_in_verified, world):
        stream = FundingStream.objects.get(code="ASC")

        def add_people(count):
            for _ in range(count):
                personal_budget_create(
                    budget_holder=BudgetHolderFactory(),
                    stream=stream,
                    starts_on=date(2026, 4, 1),
                    ends_on=date(2027, 3, 31),
                    amount_minor=1_300_000,
                    explanation={},
                    created_by=None,
                )

        def queries(url=AUDIT_ASC):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            assert response.status_code == 200
            return len(captured), text(response)

        signed_in(client, sign_in_verified, world, "finance")
        add_people(3)
        queries()
        few, _ = queries()
        add_people(20)
        many, page = queries()
        assert many == few
        assert "24 people funded by ASC today (page 1 of 2)" in page
        _, second = queries(AUDIT_ASC + "?page=2")
        assert "(page 2 of 2)" in second

    def test_the_streams_notices_newest_first(self, client, sign_in_verified, world):
        first = notice_for(world, amount=1000)
        second = notice_for(world, amount=2000)
        signed_in(client, sign_in_verified, world, "officer_asc")
        page = client.get(NOTICES_ASC).content.decode()
        assert page.index(second.public_id) < page.index(first.public_id)
        assert "2 notices, newest first" in text(client.get(NOTICES_ASC))


class TestGivingNotice:
    def test_check_then_give_notice(
        self, client, sign_in_verified, world, django_capture_on_commit_callbacks
    ):
        signed_in(client, sign_in_verified, world, "officer_asc")
        form = client.get(give_url(world)).content.decode()
        assert 'value="7000.00"' in form  # all that is still to notice
        assert 'name="reclaim_on_day" type="text" inputmode="numeric" autocomplete="off" value="18"' in form

        check = client.post(give_url(world), notice_form())
        assert check.status_code == 200
        page = text(check)
        assert "Check and give" in page and "Amount to reclaim £1,000.00" in page
        assert "Can be reclaimed from 18 December 2026" in page
        assert not ReclaimNotice.objects.exists()

        changed = client.post(give_url(world), notice_form(change="yes"))
        assert (
            'value="1,000"' in changed.content.decode()
            and 'class="govuk-error-summary"' not in changed.content.decode()
        )

        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(give_url(world), notice_form(amount="1000.00", confirm="yes"))
        notice = ReclaimNotice.objects.get()
        assert done.status_code == 302 and done["Location"] == reverse("web:reclaim", args=[notice.public_id])
        assert (notice.amount_minor, notice.reclaim_on, notice.raised_by) == (
            100_000,
            EARLIEST,
            world.users["officer_asc"],
        )
        assert len(mail.outbox) == 1
        shown = text(client.get(done["Location"]))
        assert "They and their navigator were emailed" in shown
        assert "The notice runs until 18 December 2026" in shown
        assert "Reclaim the money" not in shown

    @pytest.mark.parametrize(
        "fields, message",
        [
            ({"amount": ""}, "Enter how much will be reclaimed"),
            ({"amount": "ten"}, "Enter the amount in pounds and pence, like 250.00"),
            ({"amount": "0"}, "The amount must be more than £0.00"),
            ({"amount": "7000.01"}, "At most £7,000.00 may be reclaimed now"),
            ({"reason": "   "}, "Say why the money is being reclaimed"),
            ({"reclaim_on_day": "17"}, "The money can be reclaimed on 18 December 2026 at the earliest"),
            ({"reclaim_on_day": "32"}, "The reclaim date must be a real date"),
            (
                {"reclaim_on_day": "", "reclaim_on_month": "", "reclaim_on_year": ""},
                "Enter the day the money can be reclaimed",
            ),
        ],
    )
    def test_a_mistake_shows_the_error_summary_and_gives_no_notice(
        self, client, sign_in_verified, world, fields, message
    ):
        signed_in(client, sign_in_verified, world, "finance")
        before = state()
        for confirm in ({}, {"confirm": "yes"}):
            response = client.post(give_url(world), notice_form(**fields, **confirm))
            assert response.status_code == 200
            assert message in error_summary(response)
            assert "<title>Error: " in response.content.decode()
        assert state() == before

    def test_the_services_refusal_is_shown_on_the_field_it_names(
        self, client, sign_in_verified, world, monkeypatch
    ):
        from payments.services import reclaims
        from web.views import reclaims as views

        def refuse(**kwargs):
            raise reclaims.InvalidReclaim("Keep it to 2000 characters or fewer.", field="reason")

        monkeypatch.setattr(views.reclaim_services, "reclaim_notice_raise", refuse)
        signed_in(client, sign_in_verified, world, "finance")
        response = client.post(give_url(world), notice_form(confirm="yes"))
        assert "Keep it to 2000 characters or fewer." in error_summary(response)
        assert 'href="#id_reason"' in response.content.decode()
        assert not ReclaimNotice.objects.exists()

    def test_nothing_more_to_notice(self, client, sign_in_verified, world):
        notice_for(world, amount=700_000)
        signed_in(client, sign_in_verified, world, "finance")
        page = text(client.get(give_url(world)))
        assert "There is nothing more to give notice for now" in page
        assert "Give notice to" not in text(client.get(AUDIT_ASC))


class TestReclaimingAndWithdrawing:
    def test_not_before_the_day_then_after_a_confirmation(self, client, sign_in_verified, world):
        notice = notice_for(world)
        signed_in(client, sign_in_verified, world, "finance")
        url = reverse("web:reclaim-post", args=[notice.public_id])
        early = text(client.get(url))
        assert "The notice runs until 18 December 2026" in early and "This cannot be undone" not in early

        world.clock.today = EARLIEST
        confirm = text(client.get(url))
        assert "This cannot be undone" in confirm and "Reclaim the money" in confirm
        before = state()
        too_much = client.post(url, {"amount": "1000.01"})
        assert "no more may be reclaimed under it" in error_summary(too_much)
        assert "Enter the amount in pounds and pence" in error_summary(client.post(url, {"amount": "lots"}))
        assert state() == before

        done = client.post(url, {"amount": "400"})
        notice.refresh_from_db()
        assert done.status_code == 302 and done["Location"] == reverse("web:reclaim", args=[notice.public_id])
        assert (notice.status, notice.reclaimed_minor) == (ReclaimStatus.RECLAIMED, 40_000)
        page = text(client.get(done["Location"]))
        assert "You reclaimed £400.00" in page and "Reclaimed £400.00 on" in page
        assert "This notice was reclaimed" in text(client.get(url))

    def test_withdrawn_with_a_reason(self, client, sign_in_verified, world):
        notice = notice_for(world)
        signed_in(client, sign_in_verified, world, "officer_asc")
        url = reverse("web:reclaim-withdraw", args=[notice.public_id])
        before = state()
        assert "Say why the notice is withdrawn" in error_summary(client.post(url, {"reason": " "}))
        assert state() == before

        done = client.post(url, {"reason": "A new plan needs the money."})
        notice.refresh_from_db()
        assert done.status_code == 302
        assert (notice.status, notice.withdrawal_reason) == (
            ReclaimStatus.WITHDRAWN,
            "A new plan needs the money.",
        )
        page = text(client.get(done["Location"]))
        assert "Withdrawn" in page and "A new plan needs the money." in page
        assert "Withdraw the notice" not in page.split("Withdrawn", 1)[1]
        assert "was withdrawn already" in text(client.get(url))
        again = client.post(url, {"reason": "Again."})
        assert "withdrawn already" in error_summary(again)


class TestReplying:
    @pytest.mark.parametrize("role", ["holder", "rep_approve"])
    def test_the_budget_holder_or_an_approving_representative_replies(
        self, client, sign_in_verified, world, role
    ):
        notice = notice_for(world)
        signed_in(client, sign_in_verified, world, role)
        listed = text(client.get(person_notices(world)))
        assert "Why Unspent for months." in listed and "Can be reclaimed from 18 December 2026" in listed
        assert "Reply to this notice" in listed
        url = reverse("web:person-reclaim-reply", args=[alex(world).public_id, notice.public_id])
        before = state()
        assert "Write your reply" in error_summary(client.post(url, {"response": "  "}))
        assert state() == before

        done = client.post(url, {"response": "I am saving for a new wheelchair."})
        notice.refresh_from_db()
        assert done.status_code == 302 and done["Location"] == person_notices(world)
        assert (notice.status, notice.response) == (
            ReclaimStatus.RESPONDED,
            "I am saving for a new wheelchair.",
        )
        assert "Your reply was sent" in text(client.get(done["Location"]))

    def test_the_agency_reads_the_reply(self, client, sign_in_verified, world):
        notice = notice_for(world)
        signed_in(client, sign_in_verified, world, "holder")
        client.post(
            reverse("web:person-reclaim-reply", args=[alex(world).public_id, notice.public_id]),
            {"response": "Saving for a wheelchair."},
        )
        client.logout()
        signed_in(client, sign_in_verified, world, "officer_asc")
        assert "Reply Saving for a wheelchair." in text(
            client.get(reverse("web:reclaim", args=[notice.public_id]))
        )

    def test_a_withdrawn_notice_takes_no_reply(self, client, sign_in_verified, world):
        notice = notice_for(world)
        notice.status = ReclaimStatus.WITHDRAWN
        notice.save()
        signed_in(client, sign_in_verified, world, "holder")
        url = reverse("web:person-reclaim-reply", args=[alex(world).public_id, notice.public_id])
        assert "Reply to this notice" not in text(client.get(person_notices(world)))
        assert "so it takes no reply" in text(client.get(url))
        response = client.post(url, {"response": "Thanks."})
        assert "takes no reply" in error_summary(response)
        notice.refresh_from_db()
        assert notice.response == ""

    def test_no_notices(self, client, sign_in_verified, world):
        signed_in(client, sign_in_verified, world, "holder")
        assert "There are no notices." in text(client.get(person_notices(world)))


class TestReserves:
    @pytest.mark.parametrize("role", ["navigator", "finance"])
    def test_set_aside_then_released_after_a_confirmation(self, client, sign_in_verified, world, role):
        signed_in(client, sign_in_verified, world, role)
        page = text(client.get(reserves_url(world)))
        assert "Adult Social Care (ASC) £9,000.00 £0.00 £9,000.00" in page
        assert "No money has been set aside" in page

        added = client.post(
            reserves_url(world), {"stream": "ASC", "amount": "£250", "reason": "Holiday pay."}
        )
        reserve = LegitimateReserve.objects.get()
        assert added.status_code == 302 and added["Location"] == reserves_url(world)
        assert (reserve.amount_minor, reserve.reason, reserve.entered_by) == (
            25_000,
            "Holiday pay.",
            world.users[role],
        )
        page = text(client.get(reserves_url(world)))
        assert (
            "You set aside £250.00" in page and "Adult Social Care (ASC) £9,000.00 £250.00 £8,750.00" in page
        )

        release = reverse("web:reserve-release", args=[alex(world).public_id, reserve.public_id])
        assert "Release £250.00 set aside" in text(client.get(release))
        before = state()
        assert "Say why the money is no longer set aside" in error_summary(
            client.post(release, {"reason": ""})
        )
        assert state() == before
        done = client.post(release, {"reason": "Paid in October."})
        reserve.refresh_from_db()
        assert done.status_code == 302
        assert (reserve.release_reason, reserve.released_by) == ("Paid in October.", world.users[role])
        assert "Released" in text(client.get(reserves_url(world)))
        assert "This money was released" in text(client.get(release))
        again = client.post(release, {"reason": "Again."})
        assert "was already released" in error_summary(again)

    @pytest.mark.parametrize(
        "fields, messages",
        [
            (
                {},
                [
                    "Choose the funding stream whose money is set aside",
                    "Enter how much to set aside",
                    "Say what the money is set aside for",
                ],
            ),
            (
                {"stream": "SP", "amount": "1", "reason": "Why"},
                ["Choose one of the funding streams in the list"],
            ),
            (
                {"stream": "ASC", "amount": "9000.01", "reason": "Why"},
                ["so at most 9000.00 more can be set aside"],
            ),
            ({"stream": "ASC", "amount": "1.234", "reason": "Why"}, ["Enter the amount in pounds and pence"]),
            ({"stream": "ASC", "amount": "1", "reason": "x" * 501}, ["Keep it to 500 characters or fewer"]),
        ],
    )
    def test_a_mistake_shows_the_error_summary_and_sets_nothing_aside(
        self, client, sign_in_verified, world, fields, messages
    ):
        signed_in(client, sign_in_verified, world, "navigator")
        before = state()
        response = client.post(reserves_url(world), fields)
        assert response.status_code == 200
        summary = error_summary(response)
        for message in messages:
            assert message in summary
        assert state() == before
