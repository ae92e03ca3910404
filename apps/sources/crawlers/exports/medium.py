"""Medium's export zip: ``posts/*.html``, one microformats page per post; drafts are ``draft_*.html``.

``posts/`` also holds the author's *responses* (comments left on other people's posts), laid out like
posts. A response has no title of its own: Medium makes its first words the title, and its body has
no ``graf--title`` heading. They are skipped (with that reason) unless ``include_responses`` is set,
and then they are short posts. When the author set no subtitle, Medium's ``p-summary`` is an excerpt
of the first paragraph, which is not repeated as a subtitle.
"""

from typing import Any

import lxml.html

from apps.sources.crawlers.base import CrawledDocument, CrawlSkipped
from apps.sources.crawlers.exports.archive import ExportEntry, ExportError, ExportFiles
from apps.sources.crawlers.exports.convert import article_text, html_to_text, parse_datetime

_ELLIPSIS = ("…", "...")


def medium_entries(files: ExportFiles, options: dict[str, Any]) -> list[ExportEntry]:
    include_drafts = bool(options.get("include_drafts"))
    include_responses = bool(options.get("include_responses"))

    def read(name: str) -> CrawledDocument | CrawlSkipped:
        if _is_draft(name) and not include_drafts:
            return CrawlSkipped(name, "A draft (set include_drafts to import drafts).")
        return medium_post(name, files.read_text(name), include_responses=include_responses)

    return [ExportEntry(name, lambda name=name: read(name)) for name in files.in_folder("posts", (".html", ".htm"))]


def medium_post(name: str, html: str, *, include_responses: bool = False) -> CrawledDocument | CrawlSkipped:
    page = lxml.html.document_fromstring(html)
    body = _first(page, "//section[@data-field='body']")
    if body is None:
        raise ExportError(f"{name} has no post body (section data-field=body); is it a Medium export page?")
    title = _text(_first(page, "//h1[contains(@class, 'p-name')]")) or _text(_first(page, "//title"))
    response = _is_response(body, title)
    if response and not include_responses:
        return CrawlSkipped(name, "A response to someone else's post, not an article (set include_responses).")
    in_body_subtitle = _first(body, ".//*[contains(@class, 'graf--subtitle')]")
    subtitle = _text(in_body_subtitle) if in_body_subtitle is not None else ""
    summary = _text(_first(page, "//section[@data-field='subtitle']"))
    # Medium repeats the title (and subtitle) as the first paragraphs of the body.
    for repeated in body.xpath(".//*[contains(@class, 'graf--title') or contains(@class, 'graf--subtitle')]"):
        if _text(repeated) in {title, subtitle}:
            repeated.drop_tree()
    time = _first(page, "//time[contains(@class, 'dt-published')]")
    canonical = _first(page, "//a[contains(@class, 'p-canonical')]")
    text = html_to_text(body)
    return CrawledDocument(
        url=(canonical.get("href", "") if canonical is not None else "") or name,
        text=text if response else article_text(title, text, subtitle=subtitle),
        title=title,
        raw_content=html,
        content_type="post" if response else "article",
        published_at=parse_datetime(time.get("datetime")) if time is not None else None,
        author_name=_text(_first(page, "//a[contains(@class, 'p-author')]")),
        metadata={
            "export": "medium",
            "file": name,
            "draft": _is_draft(name),
            "response": response,
            "subtitle": subtitle or summary,
        },
    )


def _is_draft(name: str) -> bool:
    return name.rsplit("/", 1)[-1].startswith("draft_")


def _is_response(body: lxml.html.HtmlElement, title: str) -> bool:
    """Medium titles a response with its own first words; a post has a title heading in its body."""
    if body.xpath(".//*[contains(@class, 'graf--title')]"):
        return False
    first = body.xpath(".//*[contains(@class, 'graf--p')]")
    opening = _text(first[0]) if first else ""
    stem = title.rstrip("".join(_ELLIPSIS)).strip()
    return bool(stem) and opening.startswith(stem)


def _first(page: lxml.html.HtmlElement, xpath: str) -> lxml.html.HtmlElement | None:
    found = page.xpath(xpath)
    return found[0] if found else None


def _text(element: lxml.html.HtmlElement | None) -> str:
    return " ".join(element.text_content().split()) if element is not None else ""
