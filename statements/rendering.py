"""Statements as documents: HTML from the templates, and a tagged PDF (PDF/UA-1) made from the same HTML by
WeasyPrint.

WeasyPrint fetches nothing from outside: `StaticOnlyFetcher` serves Purse's own static files (the print
stylesheet) and refuses every other URL (http, https, file, data...), so text in a statement (an invoice
line's description, say) can neither load nor leak anything; the templates escape it anyway.

A process keeps one WeasyPrint font configuration and one resource cache, so a run's statements after the
first reuse the parsed stylesheet and fonts instead of loading them again.
"""

import hashlib
import io
import mimetypes
from dataclasses import dataclass
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

BASE_URL = "https://purse.invalid/"
# The only URLs WeasyPrint may load: Purse's static files, by their path under this prefix.
STATIC_PREFIX = BASE_URL + "static/"
STYLESHEET = STATIC_PREFIX + "statements/print.css"
PDF_VARIANT = "pdf/ua-1"


class StaticOnlyFetcher(URLFetcher):
    """Serves `STATIC_PREFIX` + path from Purse's static files (the staticfiles finders); refuses every
    other URL."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if not url.startswith(STATIC_PREFIX):
            raise ValueError(f"Statements load only Purse's own static files, not {url[:200]!r}.")
        path = url[len(STATIC_PREFIX) :].split("?")[0].split("#")[0]
        if not path or ".." in path.split("/") or path.startswith("/"):
            raise ValueError(f"There is no static file {path!r}.")
        found = finders.find(path)
        if not found:
            raise ValueError(f"There is no static file {path!r}.")
        with open(found, "rb") as handle:
            body = handle.read()
        mime_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": mime_type})


@dataclass(frozen=True)
class Pdf:
    content: bytes
    pages: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


_font_config: FontConfiguration | None = None
_cache: dict[str, Any] = {}


def _fonts() -> FontConfiguration:
    global _font_config
    if _font_config is None:
        _font_config = FontConfiguration()
    return _font_config


def render_html(template: str, context: dict[str, Any]) -> str:
    return render_to_string(template, {**context, "for_print": True})


def render_pdf(template: str, context: dict[str, Any], *, title: str) -> Pdf:
    """The template as a tagged PDF/UA-1 document titled `title`, in British English."""
    html = render_html(template, {**context, "title": title, "stylesheet": STYLESHEET})
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).render(
        font_config=_fonts(), cache=_cache, pdf_variant=PDF_VARIANT
    )
    buffer = io.BytesIO()
    document.write_pdf(
        buffer,
        pdf_variant=PDF_VARIANT,
        pdf_identifier=hashlib.sha256(html.encode()).digest()[:16],
        custom_metadata=False,
    )
    return Pdf(content=buffer.getvalue(), pages=len(document.pages))
