"""Medium's export zip: ``posts/*.html``, one microformats page per post; drafts are ``draft_*.html``."""

from typing import Any

import lxml.html

from apps.sources.crawlers.base import CrawledDocument
from apps.sources.crawlers.exports.archive import ExportEntry, ExportError, ExportFiles
from apps.sources.crawlers.exports.convert import article_text, html_to_text, parse_datetime


def medium_entries(files: ExportFiles, options: dict[str, Any]) -> list[ExportEntry]:
    include_drafts = bool(options.get("include_drafts"))
    return [
        ExportEntry(name, lambda name=name: medium_post(name, files.read_text(name)))
        for name in files.in_folder("posts", (".html", ".htm"))
        if include_drafts or not name.removeprefix("posts/").startswith("draft_")
    ]


def medium_post(name: str, html: str) -> CrawledDocument:
    page = lxml.html.document_fromstring(html)
    body = _first(page, "//section[@data-field='body']")
    if body is None:
        raise ExportError(f"{name} has no post body (section data-field=body); is it a Medium export page?")
    title = _text(_first(page, "//h1[contains(@class, 'p-name')]")) or _text(_first(page, "//title"))
    subtitle = _text(_first(page, "//section[@data-field='subtitle']"))
    # Medium repeats the title (and subtitle) as the first paragraphs of the body.
    for repeated in body.xpath(".//*[contains(@class, 'graf--title') or contains(@class, 'graf--subtitle')]"):
        if _text(repeated) in {title, subtitle}:
            repeated.drop_tree()
    time = _first(page, "//time[contains(@class, 'dt-published')]")
    canonical = _first(page, "//a[contains(@class, 'p-canonical')]")
    draft = name.removeprefix("posts/").startswith("draft_")
    return CrawledDocument(
        url=(canonical.get("href", "") if canonical is not None else "") or name,
        text=article_text(title, html_to_text(body), subtitle=subtitle),
        title=title,
        raw_content=html,
        published_at=parse_datetime(time.get("datetime")) if time is not None else None,
        author_name=_text(_first(page, "//a[contains(@class, 'p-author')]")),
        metadata={"export": "medium", "file": name, "draft": draft, "subtitle": subtitle},
    )


def _first(page: lxml.html.HtmlElement, xpath: str) -> lxml.html.HtmlElement | None:
    found = page.xpath(xpath)
    return found[0] if found else None


def _text(element: lxml.html.HtmlElement | None) -> str:
    return " ".join(element.text_content().split()) if element is not None else ""
