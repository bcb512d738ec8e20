"""A person's statement as a tagged PDF (PDF/UA-1): its structure, its metadata, its page numbers, the same
bytes every time, and nothing loaded but Purse's own stylesheet, whatever the text in it says."""

import io
import logging
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from django.conf import settings
from pypdf import PdfReader
from pypdf.generic import ArrayObject, BooleanObject, DictionaryObject, IndirectObject

from invoicing import services as invoicing_services
from people.models import Organisation
from statements import rendering, selectors
from statements.period import month_of
from tests.invoicing.world import (
    TODAY,
    build_invoicing_world,
    invoice_body,
    invoice_request,
    provider_user,
)

pytestmark = pytest.mark.django_db

HOSTILE = (
    '<img src="http://evil.example/x.png"> <link rel=stylesheet href="https://evil.example/x.css"> '
    "<style>@import url(file:///etc/passwd)</style> url(http://evil.example/y)"
)
HOSTILE_PROVIDER = '<img src="http://evil.example/p.png"> Bright Care'
PERIOD = month_of(TODAY)
# Where Purse's static files are, to WeasyPrint: the statements' base URL and STATIC_URL ("/static/").
STATIC = urljoin(rendering.BASE_URL, settings.STATIC_URL)


@pytest.fixture
def world(monkeypatch):
    return build_invoicing_world(monkeypatch)


def _paid(world, engagement, number: str, *, description: str = "", lines=None):
    """Submit, approve (as Alex) and pay an invoice for the engagement; its lines described as given."""
    body = invoice_body(engagement, number=number, lines=lines)
    for line in body["lines"]:
        line["description"] = description or line["description"]
    invoice = invoicing_services.invoice_submit(
        provider=engagement.provider,
        submitted_by=provider_user(engagement.provider.slug),
        request=invoice_request(body),
    )
    invoice = invoicing_services.invoice_approve(invoice=invoice, by=world.users["holder"])
    invoicing_services.remittance_record(
        provider=engagement.provider, invoices=[invoice], reference=f"PAY-{number}", paid_on=TODAY, by=None
    )
    return invoice


def _alex_statement(world):
    return selectors.person_statement(budget_holder=world.base.alex, period=PERIOD)


@pytest.fixture
def statement(world):
    """Alex's November: care paid (two streams), support at work paid, over more than one page."""
    days = [(f"2026-10-{day:02d}", "1.00") for day in range(1, 21)]
    _paid(world, world.care, "C-1", lines=days)
    _paid(world, world.work, "W-1", lines=days[:10])
    return _alex_statement(world)


def _reader(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def _structure_types(reader: PdfReader) -> list[str]:
    """Every structure element's type (/S), depth first from the StructTreeRoot."""
    found: list[str] = []
    seen: set[int] = set()

    def walk(node) -> None:
        if isinstance(node, IndirectObject):
            if node.idnum in seen:
                return
            seen.add(node.idnum)
            node = node.get_object()
        if isinstance(node, ArrayObject):
            for child in node:
                walk(child)
        elif isinstance(node, DictionaryObject):
            if "/S" in node:
                found.append(str(node["/S"]))
            if "/K" in node:
                walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


def _xmp(reader: PdfReader) -> bytes:
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data()


def _flat(text: str) -> str:
    """Text without any white space (the PDF's text wraps where the lines break)."""
    return "".join(text.split())


class TestTagged:
    def test_the_catalog_marks_it_tagged_in_british_english(self, statement):
        catalog = _reader(selectors.person_pdf(statement).content).trailer["/Root"]

        assert catalog["/MarkInfo"]["/Marked"] == BooleanObject(True)
        assert "/StructTreeRoot" in catalog
        assert catalog["/Lang"] == "en-GB"

    def test_info_and_xmp_title_is_the_statements_title_and_it_claims_pdf_ua_1(self, statement):
        reader = _reader(selectors.person_pdf(statement).content)
        title = selectors.person_title(statement)

        assert title.startswith("Statement for Alex, 1 November 2026 to 30 November 2026")
        assert reader.metadata.title == title
        assert reader.xmp_metadata.dc_title == {"x-default": title}
        assert re.search(rb"pdfuaid:part(?:>|=[\"'])\s*1\b", _xmp(reader))

    def test_the_structure_has_headings_and_table_headers(self, statement):
        types = _structure_types(_reader(selectors.person_pdf(statement).content))

        assert types.count("/H1") == 1
        assert types.count("/H2") >= 6  # summary, money in, money out, set aside, how long, plan, waiting
        assert {"/Table", "/TH", "/TD", "/L", "/LI"} <= set(types)
        assert types.count("/TH") >= 10  # each table's column headers and row headers

    def test_every_page_says_which_page_of_how_many_it_is(self, statement):
        pdf = selectors.person_pdf(statement)
        reader = _reader(pdf.content)

        assert pdf.pages == len(reader.pages) >= 2
        for number, page in enumerate(reader.pages, start=1):
            assert f"Page {number} of {pdf.pages}" in page.extract_text()

    def test_the_same_statement_makes_the_same_bytes(self, world, statement):
        first = selectors.person_pdf(statement)
        again = selectors.person_pdf(statement)
        document = selectors.person_document(budget_holder=world.base.alex, period=PERIOD)

        assert first.content == again.content == document.pdf.content
        assert first.sha256 == document.pdf.sha256
        assert first.content.startswith(b"%PDF-")


@pytest.fixture
def fetched(monkeypatch):
    """Every URL WeasyPrint asks the fetcher for (which still answers as it would)."""
    urls: list[str] = []
    fetch = rendering.StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        urls.append(url)
        return fetch(self, url, headers)

    monkeypatch.setattr(rendering.StaticOnlyFetcher, "fetch", spy)
    return urls


class TestHostileText:
    def test_markup_in_a_line_and_a_provider_name_is_only_text(self, world, fetched, caplog):
        Organisation.objects.filter(pk=world.care.provider.pk).update(name=HOSTILE_PROVIDER)
        world.care.provider.refresh_from_db()
        _paid(world, world.care, "C-666", description=HOSTILE)

        with caplog.at_level(logging.WARNING, logger="weasyprint"):
            pdf = selectors.person_pdf(_alex_statement(world))

        text = _flat("".join(page.extract_text() for page in _reader(pdf.content).pages))
        assert _flat(HOSTILE) in text
        assert _flat(HOSTILE_PROVIDER) in text
        assert fetched, "the print stylesheet is fetched"
        assert all(url.startswith(STATIC) for url in fetched), fetched
        assert set(fetched) == {rendering.STYLESHEET}
        assert not [record for record in caplog.records if record.levelno >= logging.WARNING]

    def test_the_html_escapes_it(self, world):
        _paid(world, world.care, "C-667", description=HOSTILE)
        html = rendering.render_html("statements/person_pdf.html", {"statement": _alex_statement(world)})

        assert (
            "<img" not in html
            and "<style>@import" not in html
            and 'rel=stylesheet href="https://' not in html
        )
        assert "&lt;img src=&quot;http://evil.example/x.png&quot;&gt;" in html


class TestStaticOnlyFetcher:
    @pytest.mark.parametrize(
        "url",
        [
            "http://evil.example/x.png",
            "https://evil.example/x.css",
            "https://evil.example/static/statements/print.css",
            "https://purse.invalid.evil.example/static/statements/print.css",
            "http://purse.invalid/static/statements/print.css",
            "https://purse.invalid/statements/print.css",
            "file:///etc/passwd",
            f"file://{Path(settings.BASE_DIR) / 'statements/static/statements/print.css'}",
            "data:text/css,body%7Bcolor:red%7D",
            "data:image/png;base64,iVBORw0KGgo=",
            "//evil.example/x.css",
            STATIC + "../../etc/passwd",
            STATIC + "statements/../../config/settings.py",
            STATIC + "%2e%2e/%2e%2e/etc/passwd",
            STATIC + "/etc/passwd",
            STATIC,
            STATIC + "statements/no-such-file.css",
        ],
    )
    def test_refuses_anything_but_purses_static_files(self, url):
        with pytest.raises(ValueError):
            rendering.StaticOnlyFetcher().fetch(url)

    def test_serves_the_print_stylesheet(self):
        response = rendering.StaticOnlyFetcher().fetch(STATIC + "statements/print.css")

        stylesheet = Path(settings.BASE_DIR) / "statements/static/statements/print.css"
        assert response.read() == stylesheet.read_bytes()
        assert response.headers.get_content_type() == "text/css"
        assert rendering.STYLESHEET == STATIC + "statements/print.css"
