"""HTML page -> main text in the crawler text convention, plus title, author, date, language and links.

How: trafilatura 2.3.1 finds the main content (its XML body), and this module writes that body in
the convention of apps.sources.crawlers.base. Before trafilatura sees the page, every <pre> is swapped
for a placeholder and put back afterwards as a fenced block with its exact text; named anchors,
navigation blocks and layout tables are removed or unwrapped, and a page without <main>/<article> gets
a <main> frame (each step below says which failure it fixes).

Measured (2026-11-28) on 132 pages: the 15 fixture pages of tests/fixtures/web and all 117 pages of
the ABS guide (/usr/share/doc/abs-guide/html, iso-8859-1 DocBook with listings in one-cell tables).
Against the pages' own markup: a <pre> counts when its text appears byte-for-byte as a fenced block;
a heading when it is a "#" line; a paragraph (60+ chars) when it is whole inside one output block;
leaks are link texts of nav/header/footer/aside and DocBook NAVHEADER/NAVFOOTER found in the output.

    candidate                        code fenced exactly   headings   paragraphs   nav leaks
    trafilatura, markdown output          1 / 1107          22 / 241   2135 / 2220     106
    readability-lxml + html2text          0 / 1107 (a)     112 / 241   1249 / 2220      30
    this module                        1100 / 1107         241 / 241   2203 / 2220       9 (b)

(a) 32 verbatim but indented, not fenced. trafilatura drops blank lines inside code, fences only
<pre><code>, and flattens the book's listing tables into one line. (b) All false positives, checked
one by one: "Next", "Prev", "Home" inside code or longer words, and a nav link named like its page.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urljoin

import trafilatura
from lxml import etree, html
from trafilatura.settings import Extractor, set_date_params

from lib.html_text import code_language, fence, html_to_text, strip_permalink
from lib.text.cleaning import split_code_fences

_CODE_PLACEHOLDER = "TWINSITECODEBLOCK{}X"
_CODE_PLACEHOLDER_RE = re.compile(r"\s*[ \t|]*TWINSITECODEBLOCK(\d+)X[ \t|]*\s*")
_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPACE_RE = re.compile(r"\s+")
_XML_TO_HTML = {
    "doc": "div",
    "body": "div",
    "main": "div",
    "p": "p",
    "item": "li",
    "quote": "blockquote",
    "lb": "br",
    "table": "table",
    "row": "tr",
    "cell": "td",
    "div": "div",
}
# Where pages state their publication time (Open Graph, schema.org, Dublin Core, Highwire, news CMSs).
_DATE_META_NAMES = frozenset(
    {
        "article:published_time",
        "og:published_time",
        "datepublished",
        "date",
        "dc.date",
        "dc.date.issued",
        "dcterms.created",
        "dcterms.issued",
        "citation_publication_date",
        "citation_date",
        "pubdate",
        "publishdate",
        "parsely-pub-date",
        "sailthru.date",
    }
)
_JSON_LD_DATE_RE = re.compile(r'"datePublished"\s*:\s*"([^"]+)"')
_NAVIGATION_NAME_RE = re.compile(r"(site-|main-|top-)?(nav|navbar|navigation|navheader|navfooter|breadcrumbs?)")
_LINK_SCHEMES = ("http://", "https://")
_PARSER = html.HTMLParser(remove_comments=True, remove_pis=True)
_HEADING_LINE_RE = re.compile(r"^#{1,6} ")
_FRAMED_GROWTH_MAX = 1.15


@dataclass(frozen=True)
class ExtractedPage:
    title: str
    text: str  # Markdown-like, see apps.sources.crawlers.base
    author: str = ""
    published_at: datetime | None = None
    language: str = ""  # ISO 639-1
    links: list[str] = field(default_factory=list)  # absolute http(s) URLs, fragments dropped, in page order
    fallback: bool = False  # the tuned extraction found nothing; trafilatura's defaults did


def extract_article(page_html: str, *, url: str) -> ExtractedPage | None:
    """The page's main content, or None when it has no text worth keeping (an empty or navigation-only page)."""
    tree = _parse(page_html)
    if tree is None:
        return None
    links, published_at, language = _links(tree, url), _stated_date(tree), _language(tree)
    unframed = not tree.xpath("//main | //article")
    has_headings = bool(tree.xpath("//body//*[self::h1 or self::h2 or self::h3 or self::h4]"))
    document, text = _extract(tree, url, frame=False)
    if unframed and has_headings and not _prose_headings(text):
        # No <main>/<article>: trafilatura fell back to a text recovery that keeps no heading (old
        # DocBook pages). Framed, it keeps them; the framed text is taken unless it grew past the
        # article (a frame around a page with sidebars makes them content too).
        framed = _parse(page_html)
        framed_document, framed_text = _extract(framed, url, frame=True) if framed is not None else (None, "")
        # Heading lines are what framing is for, so they don't count as growth: on a short page they alone
        # added a fifth (three Debian FAQ chapters), and those pages lost every heading.
        headings = _prose_headings(framed_text)
        grown = len(framed_text) - sum(len(line) + 1 for line in headings)
        if headings and grown <= _FRAMED_GROWTH_MAX * max(len(text), 1):
            document, text = framed_document, framed_text
    fallback = not text
    if fallback:
        # The page preparation above can leave trafilatura nothing it recognises as an article (a post
        # in a layout table, say); its default settings on the untouched page may still find one.
        fresh = _parse(page_html)
        if fresh is not None:
            _drop_navigation(fresh)
        document = trafilatura.bare_extraction(fresh, url=url, options=_extractor(url)) if fresh is not None else None
        text = _body_to_text(document.body, []) if document is not None and document.body is not None else ""
    if not text:
        return None
    return ExtractedPage(
        fallback=fallback,
        title=strip_permalink(_clean(document.title or "")),  # Sphinx titles come from the h1
        text=text,
        author=_clean(document.author or ""),
        published_at=published_at,
        language=language,
        links=links,
    )


def _prose_headings(text: str) -> list[str]:
    """Heading lines outside code blocks: a shell listing's "# apt-get source foo" is no heading (the Debian
    FAQ's software chapter lost every heading when it counted as one)."""
    runs = split_code_fences(text.split("\n"))
    return [line for run in runs if not run.is_code for line in run.lines if _HEADING_LINE_RE.match(line)]


def _extract(tree: html.HtmlElement, url: str, *, frame: bool) -> tuple[Any, str]:
    code_blocks = _prepare_tree(tree, frame=frame)
    document = trafilatura.bare_extraction(tree, url=url, options=_extractor(url))
    text = _body_to_text(document.body, code_blocks) if document is not None and document.body is not None else ""
    return document, text


def _extractor(url: str) -> Extractor:
    """trafilatura's options. Two only skip work whose result is never used; body, title and author are the same.

    ``output_format="xml"``: "python" also renders the body as text, which we never read (we write
    the body ourselves). ``extensive_search=False``: htmldate's date is never used (see
    _stated_date), and its extensive search runs dateparser's locale rules over the page text.
    Measured on the 117 pages of the ABS guide, same process, warm: 5.2 s -> 2.6 s of CPU, the
    ExtractedPages equal.
    """
    return Extractor(
        output_format="xml",
        comments=False,
        tables=True,
        links=False,
        images=False,
        formatting=True,
        url=url,
        with_metadata=True,
        date_params={**set_date_params(), "extensive_search": False},
    )


def extract_fragment_text(fragment_html: str, *, url: str) -> str:
    """The text of an HTML fragment that is all content (a feed entry's body), in the same convention.

    No boilerplate removal: the fragment is the post, as an export holds it, and it is written by the
    same writer, so the feed's copy and the export's copy of a post are the same text.
    """
    return html_to_text(_XML_DECLARATION_RE.sub("", fragment_html, count=1))


def extract_links(page_html: str, *, url: str) -> list[str]:
    """Every http(s) link of the page (navigation included), absolute, without fragment, deduplicated, in order."""
    tree = _parse(page_html)
    return _links(tree, url) if tree is not None else []


def _parse(page_html: str) -> html.HtmlElement | None:
    # lxml refuses str input that still carries an XML encoding declaration (XHTML pages).
    page_html = _XML_DECLARATION_RE.sub("", page_html, count=1)
    if not page_html.strip():
        return None
    try:
        # Without comments, as trafilatura parses pages itself: its cleaning drops a comment with the text
        # that follows it, and script-rendered pages put <!-- --> between the text nodes of a sentence.
        return html.document_fromstring(page_html, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None


def _links(tree: html.HtmlElement, url: str) -> list[str]:
    base = tree.xpath("string(//base/@href)").strip()
    base_url = urljoin(url, base) if base else url
    links: dict[str, None] = {}
    for href in tree.xpath("//a/@href | //area/@href"):
        try:
            absolute = urldefrag(urljoin(base_url, href.strip())).url
        except ValueError:  # a malformed link, such as an unclosed IPv6 bracket
            continue
        if absolute.startswith(_LINK_SCHEMES):
            links.setdefault(absolute, None)
    return list(links)


def _prepare_tree(tree: html.HtmlElement, *, frame: bool) -> list[str]:
    """Adapt the page to trafilatura's main-content detection; return the page's code blocks, fenced.

    Measured on old DocBook pages (see the module docstring): trafilatura drops every block that holds
    a named anchor (<a name=...>) and, finding no <main>/<article> frame, falls back to a text
    recovery that never keeps headings.
    """
    for anchor in tree.xpath("//a[not(@href)]"):
        anchor.drop_tag()
    _drop_navigation(tree)
    if frame and tree.body is not None and not tree.xpath("//main | //article"):
        frame = html.Element("main")
        frame.text, tree.body.text = tree.body.text, None
        frame.extend(list(tree.body))
        tree.body.append(frame)
    _unwrap_layout_tables(tree)
    return _replace_code_blocks(tree)


def _drop_navigation(tree: html.HtmlElement) -> None:
    for element in tree.xpath("//nav | //*[@class or @id]"):
        # trafilatura's rules miss upper-case names (DocBook's NAVHEADER); lower-casing every class
        # made it drop sidebars and notes, so only navigation is removed here.
        names = f"{element.get('class', '')} {element.get('id', '')}".lower().split()
        navigation = element.tag == "nav" or any(_NAVIGATION_NAME_RE.fullmatch(name) for name in names)
        if navigation and element.getparent() is not None:
            element.drop_tree()


def _unwrap_layout_tables(tree: html.HtmlElement) -> None:
    """Replace tables used for layout (text in one cell at most) by that cell's content.

    Old pages frame listings, sidebars and notes in such tables; trafilatura flattens a table cell
    into one line and drops the lists inside it.
    """
    for table in reversed(tree.xpath("//table")):  # innermost first
        cells = [cell for cell in table.iter("td", "th") if next(cell.iterancestors("table")) is table]
        text_cells = [cell for cell in cells if cell.text_content().strip()]
        if len(text_cells) > 1 or table.getparent() is None:
            continue
        frame = html.Element("div")
        if text_cells:
            frame.text = text_cells[0].text
            frame.extend(list(text_cells[0]))
        frame.tail = table.tail
        table.getparent().replace(table, frame)


def _replace_code_blocks(tree: html.HtmlElement) -> list[str]:
    """Swap every <pre> for a placeholder paragraph and return the fenced blocks, text kept exactly.

    trafilatura keeps code inside <pre><code> but drops blank lines when serialising and turns a bare
    <pre> into a quote; a placeholder survives its main-content detection as one word, and we put the
    exact text back afterwards.
    """
    for gutter in tree.xpath('//td[contains(@class, "gutter") or contains(@class, "linenos")]'):
        gutter.drop_tree()  # line-number columns of highlighters are not code
    fenced: list[str] = []
    for pre in tree.xpath("//pre[not(ancestor::pre)]"):
        for line_break in pre.iter("br"):
            line_break.tail = "\n" + (line_break.tail or "")
        fenced.append(fence(pre.text_content(), code_language(pre)))
        placeholder = html.Element("p")
        placeholder.text = _CODE_PLACEHOLDER.format(len(fenced) - 1)
        placeholder.tail = pre.tail
        pre.getparent().replace(pre, placeholder)
    return fenced


def _body_to_text(body: etree._Element, code_blocks: list[str]) -> str:
    """trafilatura's XML body, written by the one HTML writer (lib.html_text) that exports use too."""
    text = html_to_text(_as_html(body))
    # A listing may sit inside a table cell or a list item: it still becomes a block of its own.
    return _CODE_PLACEHOLDER_RE.sub(lambda match: _code_block(match, code_blocks), text).strip()


def _code_block(match: re.Match[str], code_blocks: list[str]) -> str:
    index = int(match.group(1))
    return f"\n\n{code_blocks[index]}\n\n" if index < len(code_blocks) else match.group(0)


def _as_html(element: etree._Element) -> html.HtmlElement:
    """trafilatura's XML elements (head, p, list, item, quote, code, hi, lb, table, row, cell) as HTML."""
    tag = element.tag if isinstance(element.tag, str) else ""
    rend = element.get("rend") or ""
    if tag == "head":
        name = rend if re.fullmatch(r"h[1-6]", rend) else "h2"
    elif tag == "code":
        name = "pre" if "\n" in "".join(element.itertext()) else "code"
    elif tag == "list":
        name = "ol" if rend == "ol" else "ul"
    else:
        name = _XML_TO_HTML.get(tag, "span")
    converted = html.Element(name)
    converted.text = element.text
    for child in element:
        if isinstance(child.tag, str) and child.tag != "graphic":
            converted.append(_as_html(child))
            converted[-1].tail = child.tail
        elif child.tail:  # a dropped image's following text stays
            _append_text(converted, child.tail)
    return converted


def _append_text(parent: html.HtmlElement, text: str) -> None:
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _clean(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


def _stated_date(tree: html.HtmlElement) -> datetime | None:
    """The publication time the page states in its markup, with its time of day and zone when it gives them.

    Only stated dates: htmldate's guesses (trafilatura's date) gave a 2023 date to a page of a 2014 book.
    """
    candidates = [
        meta.get("content") or ""
        for meta in tree.iter("meta")
        if (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower() in _DATE_META_NAMES
    ]
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        candidates.extend(_JSON_LD_DATE_RE.findall(script))
    candidates.extend(tree.xpath("//article//time/@datetime | //time[@itemprop='datePublished']/@datetime"))
    for value in candidates:
        try:
            stated = datetime.fromisoformat(value.strip())
        except ValueError:
            continue
        return stated if stated.tzinfo else stated.replace(tzinfo=UTC)
    return None


def _language(tree: html.HtmlElement) -> str:
    stated = tree.get("lang") or tree.get("xml:lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    for meta in tree.iter("meta"):
        if not stated and (meta.get("http-equiv") or "").lower() == "content-language":
            stated = meta.get("content") or ""
    code = stated.strip().split("-")[0].split("_")[0].lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else ""
