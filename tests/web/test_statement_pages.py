"""The statements pages: a person's statement for any period (on screen, as a PDF, and the statements issued
to them), a funding stream's agency statement (on screen, CSV and PDF) and finance's statement runs
(starting, resuming and retrying one). Who may see each; figures equal to the domain's; bad periods."""

import html as html_text
import re
from datetime import date

import pytest
from django.urls import reverse

from budgets.models import FundingStream
from invoicing import services as invoicing_services
from plans.wording import money_display
from statements import selectors, services
from statements.formats import CSV_COLUMNS, agency_csv_rows
from statements.models import IssuedStatement, ItemStatus, RunStatus, StatementRun, StatementRunItem
from statements.period import Period, month_of
from tests.invoicing.world import TODAY, submit
from tests.web.roles import NOT_SEE, SEE, sign_in_role

pytestmark = pytest.mark.django_db

NOVEMBER = month_of(TODAY)
OCTOBER = month_of(date(2026, 10, 1))
RUNS = reverse("web:statement-runs")
START = reverse("web:statement-run-start")
STREAMS = reverse("web:stream-statements")


def _signed_in(client, sign_in_verified, world, role: str):
    sign_in_role(client, sign_in_verified, world.users[role], role)
    return client


def _text(response) -> str:
    """The page's visible text, roughly: tags stripped, spaces collapsed."""
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def _statements(world, **query) -> str:
    url = reverse("web:statements", args=[world.base.alex.public_id])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _pdf(world, period: Period = NOVEMBER) -> str:
    url = reverse("web:statement-pdf", args=[world.base.alex.public_id])
    return f"{url}?from={period.starts_on.isoformat()}&to={period.ends_on.isoformat()}"


def _stream(code: str, name: str = "web:stream-statement", query: str = "") -> str:
    return reverse(name, args=[code]) + (f"?{query}" if query else "")


def _dates(start: tuple[str, str, str], end: tuple[str, str, str]) -> dict[str, str]:
    return {
        "show": "dates",
        "from_day": start[0],
        "from_month": start[1],
        "from_year": start[2],
        "to_day": end[0],
        "to_month": end[1],
        "to_year": end[2],
    }


def _spend(world):
    """An invoice paid (money out) and one approved but not paid (set aside), in November."""
    paid = invoicing_services.invoice_approve(
        invoice=submit(world.care, number="C-1"), by=world.users["holder"]
    )
    invoicing_services.invoice_approve(invoice=submit(world.work, number="W-1"), by=world.users["holder"])
    invoicing_services.remittance_record(
        provider=world.care.provider, invoices=[paid], reference="PAY-1", paid_on=TODAY, by=None
    )


def _issued_for(holder, period: Period, pdf: bytes = b"%PDF-1.7 issued\n") -> IssuedStatement:
    """An issued person's statement with known bytes (made without WeasyPrint, to be quick)."""
    return IssuedStatement.objects.create(
        kind="person",
        budget_holder=holder,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        pdf=pdf,
        sha256="0" * 64,
        pages=2,
        figures={},
    )


# A person's statements ------------------------------------------------------------------------------


class TestWhoSeesAPersonsStatements:
    @pytest.mark.parametrize("role", SEE)
    def test_the_person_their_side_and_staff_see_the_statement(self, client, sign_in_verified, world, role):
        _signed_in(client, sign_in_verified, world, role)
        response = client.get(_statements(world))
        assert response.status_code == 200
        assert response.content.count(b"<h1") == 1

    @pytest.mark.parametrize("role", SEE)
    def test_and_download_it(self, client, sign_in_verified, world, role):
        _signed_in(client, sign_in_verified, world, role)
        response = client.get(_pdf(world))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")

    @pytest.mark.parametrize("role", NOT_SEE)
    def test_anyone_else_gets_not_found(self, client, sign_in_verified, world, role):
        issued = _issued_for(world.base.alex, OCTOBER)
        _signed_in(client, sign_in_verified, world, role)
        assert client.get(_statements(world)).status_code == 404
        assert client.get(_pdf(world)).status_code == 404
        url = reverse("web:issued-statement-pdf", args=[world.base.alex.public_id, issued.public_id])
        assert client.get(url).status_code == 404

    def test_anonymous_is_sent_to_sign_in(self, client, world):
        for url in (_statements(world), _pdf(world)):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("web:sign-in"))


class TestThePersonsStatement:
    def test_this_month_by_default_with_the_domains_figures(self, client, world):
        _spend(world)
        client.force_login(world.users["holder"])

        response = client.get(_statements(world))

        statement = selectors.person_statement(budget_holder=world.base.alex, period=NOVEMBER)
        assert response.context["statement"] == statement
        text = _text(response)
        assert "Your statement for 1 November 2026 to 30 November 2026" in text
        assert "<title>Your statement for 1 November 2026 to 30 November 2026 - Purse</title>" in (
            response.content.decode()
        )
        currency = statement.currency
        for amount in (
            statement.opening_minor,
            statement.money_in_minor,
            statement.money_out_minor,
            statement.closing_minor,
            statement.reserved_minor,
            statement.available_minor,
        ):
            assert money_display(amount, currency=currency) in text
        assert statement.money_out_minor > 0 and statement.reserved_minor > 0
        for part in statement.streams:
            assert part.stream_name in text
        assert "(invoice C-1)" in text and "(invoice W-1)" in text
        # The month is chosen in the form, and the PDF link is for the same period.
        assert 'value="2026-11" selected' in response.content.decode()
        assert _pdf(world).replace("&", "&amp;") in response.content.decode()

    def test_others_see_whose_statement_it_is(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "navigator")
        text = _text(client.get(_statements(world)))
        assert "Alex's statement for 1 November 2026 to 30 November 2026" in text

    def test_a_month_chosen_from_the_list(self, client, world):
        client.force_login(world.users["holder"])
        response = client.get(_statements(world, show="month", month="2026-10"))
        assert response.context["period"] == OCTOBER
        assert "Your statement for 1 October 2026 to 31 October 2026" in _text(response)

    def test_dates_of_ones_own(self, client, world):
        client.force_login(world.users["holder"])
        response = client.get(_statements(world), _dates(("3", "10", "2026"), ("20", "11", "2026")))
        assert response.context["period"] == Period(date(2026, 10, 3), date(2026, 11, 20))
        assert response.context["statement"] == selectors.person_statement(
            budget_holder=world.base.alex, period=Period(date(2026, 10, 3), date(2026, 11, 20))
        )
        html = response.content.decode()
        assert '<details class="govuk-details" open>' in html
        assert 'name="from_day" type="text" inputmode="numeric" autocomplete="off" value="3"' in html

    def test_the_period_as_the_api_names_it(self, client, world):
        client.force_login(world.users["holder"])
        response = client.get(_statements(world, **{"from": "2026-10-01", "to": "2026-10-15"}))
        assert response.context["period"] == Period(date(2026, 10, 1), date(2026, 10, 15))

    @pytest.mark.parametrize(
        ("query", "field", "message"),
        [
            (_dates(("31", "2", "2026"), ("1", "3", "2026")), "from", "The start date must be a real date"),
            (_dates(("1", "", "2026"), ("1", "3", "2026")), "from", "The start date must include a month"),
            (_dates(("", "", ""), ("1", "3", "2026")), "from", "Enter the date the statement starts"),
            (_dates(("1", "3", "26"), ("1", "4", "2026")), "from", "Year must include 4 numbers"),
            (_dates(("1", "3", "2026"), ("x", "3", "2026")), "to", "The end date must be a real date"),
            (
                _dates(("10", "3", "2026"), ("1", "3", "2026")),
                "to",
                "The end date must be on or after the start date, 10 March 2026",
            ),
            # The domain's rule: at most 366 days.
            (_dates(("1", "1", "2025"), ("31", "3", "2026")), "to", "A statement covers at most 366 days"),
            ({"show": "month", "month": "1999-01"}, "month", "Choose one of the months in the list"),
            ({"from": "2026-13-01"}, "from", "'from' must be a date written YYYY-MM-DD"),
        ],
    )
    def test_a_bad_period_shows_an_error_summary_and_nothing_else(self, client, world, query, field, message):
        client.force_login(world.users["holder"])

        response = client.get(_statements(world), query)

        assert response.status_code == 200
        html = response.content.decode()
        assert "There is a problem" in html
        anchor = "id_month" if field == "month" else f"id_{field}_day"
        summary = re.search(r'<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>', html, re.S).group(
            1
        )
        assert f'href="#{anchor}"' in summary and message in html_text.unescape(summary)
        assert f'id="{anchor}"' in html
        assert "<title>Error: " in html
        assert "statement" not in response.context
        for absent in ("Download this statement", "Money at the start", "Statements sent to"):
            assert absent not in html

    def test_a_person_with_nothing_yet_gets_an_empty_statement(self, client, world):
        from tests.people.factories import BudgetHolderFactory

        holder = BudgetHolderFactory(navigator=world.users["navigator"])
        client.force_login(holder.user)
        response = client.get(reverse("web:statements", args=[holder.public_id]))
        assert response.status_code == 200
        assert "No money came in." in _text(response)


class TestThePdf:
    def test_it_is_the_domains_tagged_pdf_as_an_attachment(self, client, world):
        client.force_login(world.users["holder"])
        response = client.get(_pdf(world, OCTOBER))
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert response["Content-Disposition"] == (
            f'attachment; filename="statement-{world.base.alex.public_id}-2026-10-01-2026-10-31.pdf"'
        )
        expected = selectors.person_pdf(
            selectors.person_statement(budget_holder=world.base.alex, period=OCTOBER)
        )
        assert response.content == expected.content

    def test_a_bad_period_goes_back_to_the_page_which_says_why(self, client, world):
        client.force_login(world.users["holder"])
        url = reverse("web:statement-pdf", args=[world.base.alex.public_id])
        response = client.get(url + "?from=2026-11-30&to=2026-11-01")
        assert response.status_code == 302
        assert response["Location"] == _statements(world) + "?from=2026-11-30&to=2026-11-01"
        assert "'to' must be on or after 'from'" in _text(client.get(response["Location"]))


class TestIssuedStatements:
    def test_listed_with_a_download_of_exactly_the_stored_bytes(self, client, sign_in_verified, world):
        issued = services.person_statement_issue(budget_holder=world.base.alex, period=OCTOBER)
        _signed_in(client, sign_in_verified, world, "rep_view")

        html = client.get(_statements(world)).content.decode()
        url = reverse("web:issued-statement-pdf", args=[world.base.alex.public_id, issued.public_id])
        assert url in html
        assert "Statement for 1 October 2026 to 31 October 2026" in html

        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        stored = IssuedStatement.objects.get(pk=issued.pk)
        assert response.content == bytes(stored.pdf)
        assert response.content.startswith(b"%PDF")
        assert response["Content-Disposition"] == (
            f'attachment; filename="statement-{world.base.alex.public_id}-2026-10-01-2026-10-31.pdf"'
        )

    def test_another_persons_or_an_agencys_statement_is_not_found(self, client, world):
        sams = _issued_for(world.base.sam, OCTOBER)
        agency = IssuedStatement.objects.create(
            kind="agency",
            stream=FundingStream.objects.get(code="ASC"),
            starts_on=OCTOBER.starts_on,
            ends_on=OCTOBER.ends_on,
            pdf=b"%PDF agency",
            sha256="0" * 64,
            pages=1,
            figures={},
        )
        client.force_login(world.users["holder"])
        for public_id in (sams.public_id, agency.public_id, "stm_nothing"):
            url = reverse("web:issued-statement-pdf", args=[world.base.alex.public_id, public_id])
            assert client.get(url).status_code == 404

    def test_paginated(self, client, world):
        start = date(2024, 1, 1)
        for months in range(22):
            first = date(
                start.year + (start.month + months - 1) // 12, (start.month + months - 1) % 12 + 1, 1
            )
            _issued_for(world.base.alex, month_of(first), pdf=f"%PDF {months}".encode())
        client.force_login(world.users["holder"])
        first = client.get(_statements(world))
        assert len(first.context["issued"].object_list) == 20
        assert 'href="?from=2026-11-01&amp;to=2026-11-30&amp;page=2"' in first.content.decode()
        second = client.get(_statements(world) + "?from=2026-11-01&to=2026-11-30&page=2")
        assert len(second.context["issued"].object_list) == 2
        assert "(page 2 of statements sent)" in second.content.decode()


# Agency statements ----------------------------------------------------------------------------------


class TestWhoSeesAgencyStatements:
    def test_an_officer_sees_their_own_agencys_streams_only(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "officer_asc")

        listing = client.get(STREAMS)
        assert listing.status_code == 200
        assert [stream.code for stream in listing.context["streams"]] == ["ASC"]
        assert client.get(_stream("ASC")).status_code == 200
        for code in ("ILF", "ATW", "NOPE"):
            assert client.get(_stream(code)).status_code == 404
            assert client.get(_stream(code, "web:stream-statement-csv")).status_code == 404
            assert client.get(_stream(code, "web:stream-statement-pdf")).status_code == 404

    def test_another_officer_sees_theirs(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "officer_atw")
        assert client.get(_stream("ATW")).status_code == 200
        assert client.get(_stream("ASC")).status_code == 404

    @pytest.mark.parametrize("role", ["finance", "admin"])
    def test_finance_and_administrators_see_every_stream(self, client, sign_in_verified, world, role):
        _signed_in(client, sign_in_verified, world, role)
        listing = client.get(STREAMS)
        codes = {stream.code for stream in listing.context["streams"]}
        assert codes == set(FundingStream.objects.values_list("code", flat=True))
        for code in sorted(codes):
            assert client.get(_stream(code)).status_code == 200

    @pytest.mark.parametrize(
        "role",
        ["holder", "rep_approve", "other_holder", "navigator", "provider_engaged", "provider_not_engaged"],
    )
    def test_anyone_else_gets_not_found(self, client, sign_in_verified, world, role):
        _signed_in(client, sign_in_verified, world, role)
        assert client.get(STREAMS).status_code == 404
        for name in ("web:stream-statement", "web:stream-statement-csv", "web:stream-statement-pdf"):
            assert client.get(_stream("ASC", name)).status_code == 404

    def test_the_navigation_leads_there(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "officer_asc")
        html = client.get(_stream("ASC")).content.decode()
        assert re.search(rf'href="{STREAMS}"[^>]*><strong[^>]*>Statements</strong>', html)


class TestTheAgencyStatement:
    def test_totals_and_lines_are_the_domains(self, client, sign_in_verified, world):
        _spend(world)
        _signed_in(client, sign_in_verified, world, "officer_asc")
        stream = FundingStream.objects.get(code="ASC")

        response = client.get(_stream("ASC"))

        totals = selectors.agency_totals(stream=stream, period=NOVEMBER)
        people = list(selectors.funded_people(stream=stream, period=NOVEMBER))
        assert response.context["totals"] == totals
        assert response.context["lines"] == selectors.agency_lines(
            stream=stream, period=NOVEMBER, people=people
        )
        text = _text(response)
        assert "Adult Social Care statement for 1 November 2026 to 30 November 2026" in text
        for amount in (
            totals.allocated_minor,
            totals.spent_minor,
            totals.available_minor,
            totals.surplus_minor,
        ):
            assert money_display(amount, currency=stream.currency) in text
        assert totals.spent_minor > 0
        assert world.base.alex.full_name in text
        assert "/streams/ASC/statements/csv/?from=2026-11-01&amp;to=2026-11-30" in response.content.decode()

    def test_a_bad_period_shows_an_error_summary_and_nothing_else(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.get(_stream("ASC"), _dates(("1", "11", "2026"), ("31", "11", "2026")))
        html = response.content.decode()
        assert "There is a problem" in html and 'href="#id_to_day"' in html
        assert "The end date must be a real date" in html
        assert "totals" not in response.context
        assert "Download this statement" not in html and "Each person" not in html

    def test_the_csv_is_the_apis(self, client, sign_in_verified, world):
        _spend(world)
        _signed_in(client, sign_in_verified, world, "officer_asc")
        stream = FundingStream.objects.get(code="ASC")

        response = client.get(_stream("ASC", "web:stream-statement-csv", "from=2026-11-01&to=2026-11-30"))

        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert (
            response["Content-Disposition"]
            == 'attachment; filename="ASC-statement-2026-11-01-2026-11-30.csv"'
        )
        body = b"".join(response.streaming_content).decode()
        expected = "".join(
            agency_csv_rows(
                stream_code="ASC",
                period_from="2026-11-01",
                period_to="2026-11-30",
                currency=stream.currency,
                lines=selectors.agency_all_lines(stream=stream, period=NOVEMBER),
            )
        )
        assert body == expected
        rows = body.splitlines()
        assert rows[0] == ",".join(CSV_COLUMNS)
        assert rows[1].startswith(f"ASC,2026-11-01,2026-11-30,{world.base.alex.public_id},")

    def test_the_pdf(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.get(_stream("ILF", "web:stream-statement-pdf", "from=2026-10-01&to=2026-10-31"))
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert (
            response["Content-Disposition"]
            == 'attachment; filename="ILF-statement-2026-10-01-2026-10-31.pdf"'
        )

    def test_issued_statements_download_exactly_as_stored(self, client, sign_in_verified, world):
        asc = services.agency_statement_issue(stream=FundingStream.objects.get(code="ASC"), period=OCTOBER)
        ilf = services.agency_statement_issue(stream=FundingStream.objects.get(code="ILF"), period=OCTOBER)
        _signed_in(client, sign_in_verified, world, "officer_asc")

        html = client.get(_stream("ASC")).content.decode()
        url = reverse("web:stream-issued-statement-pdf", args=["ASC", asc.public_id])
        assert url in html
        response = client.get(url)
        assert response.content == bytes(IssuedStatement.objects.get(pk=asc.pk).pdf)
        assert response["Content-Type"] == "application/pdf"
        # Another stream's statement, under this stream's address or its own, is not theirs.
        assert (
            client.get(reverse("web:stream-issued-statement-pdf", args=["ASC", ilf.public_id])).status_code
            == 404
        )
        assert (
            client.get(reverse("web:stream-issued-statement-pdf", args=["ILF", ilf.public_id])).status_code
            == 404
        )


# Statement runs -------------------------------------------------------------------------------------


def _run_url(run: StatementRun, name: str = "web:statement-run") -> str:
    return reverse(name, args=[run.public_id])


def _pending_run() -> StatementRun:
    """A run started through the service whose statements were never sent (its commit callbacks not run)."""
    run, _ = services.statement_run_start(period=OCTOBER, by=None)
    return run


class TestWhoSeesStatementRuns:
    @pytest.mark.parametrize("role", ["finance", "admin"])
    def test_finance_and_administrators(self, client, sign_in_verified, world, role):
        run = _pending_run()
        _signed_in(client, sign_in_verified, world, role)
        for url in (RUNS, START, _run_url(run), _run_url(run, "web:statement-run-resume")):
            assert client.get(url).status_code == 200, url

    @pytest.mark.parametrize(
        "role", ["holder", "rep_approve", "navigator", "officer_asc", "provider_engaged", "other_holder"]
    )
    def test_anyone_else_gets_not_found(self, client, sign_in_verified, world, role):
        run = _pending_run()
        _signed_in(client, sign_in_verified, world, role)
        for url in (
            RUNS,
            START,
            _run_url(run),
            _run_url(run, "web:statement-run-resume"),
            _run_url(run, "web:statement-run-retry"),
        ):
            assert client.get(url).status_code == 404, url
        assert client.post(START, {"month": "2026-10", "confirm": "yes"}).status_code == 404
        assert client.post(_run_url(run, "web:statement-run-resume")).status_code == 404
        assert StatementRun.objects.count() == 1

    def test_an_unknown_run_is_not_found(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        assert client.get("/finance/statement-runs/run_nothing/").status_code == 404

    def test_the_navigation_and_home_lead_there(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        html = client.get(reverse("web:home")).content.decode()
        assert f'href="{RUNS}"' in html and f'href="{STREAMS}"' in html
        assert "Statement runs" in html and "Agency statements" in html


class TestStartingARun:
    def test_the_month_is_last_month_by_default(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        html = client.get(RUNS).content.decode()
        assert '<option value="2026-10" selected>October 2026</option>' in html
        assert "2026-11" not in html  # the month not yet over
        assert "No statement run has been started yet." in html

    def test_confirm_then_start_then_see_the_progress(
        self, client, sign_in_verified, world, django_capture_on_commit_callbacks
    ):
        _signed_in(client, sign_in_verified, world, "finance")

        check = client.post(START, {"month": "2026-10"})
        assert check.status_code == 200
        assert "Are you sure you want to start the statement run for 1 October 2026 to 31 October 2026?" in (
            _text(check)
        )
        assert "makes the statements while you wait" in _text(check)
        assert not StatementRun.objects.exists()

        with django_capture_on_commit_callbacks(execute=True):
            started = client.post(START, {"month": "2026-10", "confirm": "yes"})

        run = StatementRun.objects.get()
        assert (run.starts_on, run.ends_on) == (OCTOBER.starts_on, OCTOBER.ends_on)
        assert run.created_by == world.users["finance"]
        assert started.status_code == 302 and started["Location"] == _run_url(run)
        page = client.get(started["Location"])
        text = _text(page)
        assert (
            f"You started the statement run for 1 October 2026 to 31 October 2026: {run.total} statements"
            in text
        )
        run.refresh_from_db()
        assert run.status == RunStatus.DONE
        assert f"{run.total} of {run.total} statements made (100%)" in text
        assert "Check progress again" not in text and "data-purse-poll-url" not in page.content.decode()
        assert StatementRunItem.objects.filter(run=run, status=ItemStatus.DONE).count() == run.total
        listing = _text(client.get(RUNS))
        assert (
            "1 October 2026 to 31 October 2026" in listing and f"{run.total} of {run.total} made" in listing
        )

    def test_a_second_start_for_the_month_finds_the_first(self, client, sign_in_verified, world):
        run = _pending_run()
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.post(START, {"month": "2026-10", "confirm": "yes"}, follow=True)
        assert response.redirect_chain[-1][0] == _run_url(run)
        assert "There is already a statement run for 1 October 2026 to 31 October 2026" in _text(response)
        assert StatementRun.objects.count() == 1

    def test_a_month_not_offered_shows_an_error_summary(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.post(START, {"month": "2026-11", "confirm": "yes"})
        html = response.content.decode()
        assert "There is a problem" in html and 'href="#id_month"' in html
        assert "Choose one of the months in the list" in html
        assert not StatementRun.objects.exists()

    def test_choose_another_month(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.post(START, {"month": "2026-09", "change": "yes"})
        assert '<option value="2026-09" selected>September 2026</option>' in response.content.decode()
        assert not StatementRun.objects.exists()


class TestResumeAndRetry:
    def test_a_run_left_waiting_is_resumed(
        self, client, sign_in_verified, world, django_capture_on_commit_callbacks
    ):
        run = _pending_run()
        _signed_in(client, sign_in_verified, world, "finance")
        page = client.get(_run_url(run))
        html = page.content.decode()
        assert f'data-purse-poll-url="{_run_url(run)}"' in html
        assert "Check progress again" in html and _run_url(run, "web:statement-run-resume") in html
        assert _run_url(run, "web:statement-run-retry") not in html

        confirm = client.get(_run_url(run, "web:statement-run-resume"))
        assert f"{run.total} statements are still waiting" in _text(confirm)
        with django_capture_on_commit_callbacks(execute=True):
            resumed = client.post(_run_url(run, "web:statement-run-resume"))

        assert resumed.status_code == 302 and resumed["Location"] == _run_url(run)
        text = _text(client.get(resumed["Location"]))
        assert f"You resumed the statement run: {run.total} waiting statements sent to be made." in text
        assert f"{run.total} of {run.total} statements made" in text
        run.refresh_from_db()
        assert run.status == RunStatus.DONE

    def test_nothing_waiting_is_a_domain_error_on_the_page(self, client, sign_in_verified, world):
        run = _pending_run()
        StatementRunItem.objects.filter(run=run).update(status=ItemStatus.FAILED, error="Boom")
        _signed_in(client, sign_in_verified, world, "finance")

        response = client.post(_run_url(run, "web:statement-run-resume"))

        assert response.status_code == 200
        html = response.content.decode()
        assert "There is a problem" in html
        assert "has no statements waiting" in html and "Retry the failed ones instead." in html

    def test_failed_statements_are_listed_and_retried(
        self, client, sign_in_verified, world, django_capture_on_commit_callbacks
    ):
        run = _pending_run()
        failed = StatementRunItem.objects.filter(run=run, kind="person", budget_holder=world.base.alex)
        failed.update(status=ItemStatus.FAILED, error="WeasyPrint ran out of paper", attempts=1)
        StatementRunItem.objects.filter(run=run).exclude(pk__in=failed.values("pk")).update(
            status=ItemStatus.DONE
        )
        _signed_in(client, sign_in_verified, world, "admin")

        text = _text(client.get(_run_url(run)))
        assert "1 failed statement" in text
        assert world.base.alex.full_name in text and "WeasyPrint ran out of paper" in text
        assert "Retry failed statements" in text
        assert _run_url(run, "web:statement-run-resume") not in client.get(_run_url(run)).content.decode()

        assert "1 statement failed" in _text(client.get(_run_url(run, "web:statement-run-retry")))
        with django_capture_on_commit_callbacks(execute=True):
            retried = client.post(_run_url(run, "web:statement-run-retry"))

        assert retried["Location"] == _run_url(run)
        text = _text(client.get(retried["Location"]))
        assert "You sent the 1 failed statement to be made again." in text
        assert StatementRunItem.objects.get(pk=failed.get().pk).status == ItemStatus.DONE
        assert IssuedStatement.objects.filter(
            budget_holder=world.base.alex, starts_on=OCTOBER.starts_on
        ).exists()
        assert "None." in text  # no failures left

    def test_the_pages_polling_gets_the_progress_only(self, client, sign_in_verified, world):
        run = _pending_run()
        _signed_in(client, sign_in_verified, world, "finance")
        response = client.get(_run_url(run), headers={"X-Requested-With": "fetch"})
        assert response["X-Purse-Running"] == "1"
        html = response.content.decode()
        assert "<h1" not in html and f"0 of {run.total} statements made" in html


class TestQueries:
    def test_the_statement_page_does_not_grow_with_payments(
        self, client, world, django_assert_max_num_queries
    ):
        invoicing_services.invoice_approve(invoice=submit(world.work, number="W-1"), by=world.users["holder"])
        client.force_login(world.users["holder"])
        with django_assert_max_num_queries(60) as few:
            client.get(_statements(world))
        for day in range(2, 20):
            invoice = submit(world.work, number=f"W-{day}", lines=[(f"2026-11-{day:02d}", "0.50")])
            invoicing_services.invoice_approve(invoice=invoice, by=world.users["holder"])
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(_statements(world)).status_code == 200

    def test_the_runs_page_is_bounded_by_its_page_size(self, client, sign_in_verified, world):
        _signed_in(client, sign_in_verified, world, "finance")
        for months in range(25):
            first = date(2024 + months // 12, months % 12 + 1, 1)
            period = month_of(first)
            StatementRun.objects.create(starts_on=period.starts_on, ends_on=period.ends_on)
        response = client.get(RUNS)
        assert len(response.context["progresses"]) == 20
        assert 'href="?page=2"' in response.content.decode()
        assert len(client.get(RUNS + "?page=2").context["progresses"]) == 5
