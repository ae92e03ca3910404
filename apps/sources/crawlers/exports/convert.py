"""HTML bodies of exported posts -> Markdown-like text (the conventions of crawlers/base.py), and dates.

Export bodies are the author's own post HTML with no site chrome around it, so they
need conversion, not boilerplate removal. Trafilatura (tried first) flattens short
bodies into a single line and drops blank lines inside ``<pre>``; this walker keeps
headings, paragraphs, lists and byte-exact code.
"""

import re
from datetime import UTC, date, datetime

import lxml.html
from lxml.etree import ParserError

_DROP = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "button", "form", "nav", "head"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "figure", "figcaption", "ul", "ol"}
    | {"li", "pre", "blockquote", "table", "tr", "hr", "dl", "dt", "dd", "body", "html", "details", "summary"}
    | set(_HEADINGS)
)


def html_to_markdown(html: str | lxml.html.HtmlElement) -> str:
    """The text of an HTML document or fragment, with its structure as Markdown-like text."""
    if isinstance(html, str):
        if not html.strip():
            return ""
        try:
            html = lxml.html.document_fromstring(html)
        except ParserError:
            return ""
    return "\n\n".join(_blocks(html)).strip()


def _blocks(element: lxml.html.HtmlElement) -> list[str]:
    """Walks an element: inline runs become paragraphs, block children their own blocks."""
    blocks: list[str] = []
    run: list[str] = [_space(element.text)]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in _BLOCKS:
            blocks += _paragraph(run)
            run = []
            blocks += _block(child, tag)
        elif tag and tag not in _DROP:
            run.append(_inline(child))
        run.append(_space(child.tail))
    return blocks + _paragraph(run)


def _block(element: lxml.html.HtmlElement, tag: str) -> list[str]:
    if tag in _HEADINGS:
        text = _inline_text(element)
        return [f"{'#' * _HEADINGS[tag]} {text}"] if text else []
    if tag == "pre":
        return [_fenced(element)]
    if tag in {"ul", "ol"}:
        items = [_list_item(li) for li in element if li.tag == "li"]
        return ["\n".join(item for item in items if item)] if items else []
    if tag == "blockquote":
        inner = "\n\n".join(_blocks(element))
        return ["\n".join(f"> {line}" if line else ">" for line in inner.splitlines())] if inner else []
    if tag == "tr":
        cells = [_inline_text(cell) for cell in element if cell.tag in {"td", "th"}]
        return [" | ".join(cells)] if any(cells) else []
    if tag == "hr":
        return []
    return _blocks(element)


def _list_item(li: lxml.html.HtmlElement) -> str:
    lines = "\n\n".join(_blocks(li)).splitlines()
    lines = [line for line in lines if line.strip()]
    if not lines:
        return ""
    return "\n".join([f"- {lines[0]}", *(f"  {line}" for line in lines[1:])])


def _fenced(pre: lxml.html.HtmlElement) -> str:
    for br in pre.iter("br"):  # editors (Medium among them) break code lines with <br>
        br.tail = "\n" + (br.tail or "")
    code = pre.text_content()
    code = code[1:] if code.startswith("\n") else code  # HTML ignores a newline right after <pre>
    language = ""
    for node in (pre, *pre.iter("code")):
        match = re.search(r"(?:language|lang)-([\w+#-]+)", node.get("class", ""))
        if match:
            language = match.group(1)
            break
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{code.rstrip(chr(10))}\n{fence}"


def _inline(element: lxml.html.HtmlElement) -> str:
    if element.tag == "br":
        return "\n"
    if element.tag == "code":
        return f"`{element.text_content()}`"
    return _space(element.text) + "".join(
        _inline(child) + _space(child.tail) for child in element if isinstance(child.tag, str)
    )


def _inline_text(element: lxml.html.HtmlElement) -> str:
    return " ".join("".join(_paragraph([_inline(element)])).split())


def _space(text: str | None) -> str:
    return re.sub(r"\s+", " ", text) if text else ""


def _paragraph(run: list[str]) -> list[str]:
    lines = [line.strip() for line in "".join(run).split("\n")]
    text = "\n".join(line for line in lines if line)
    return [text] if text else []


def article_text(title: str, body: str, *, subtitle: str = "") -> str:
    """The document text: a title heading (unless the body starts with it), the subtitle, then the body."""
    body = body.strip()
    first_line = body.split("\n", 1)[0]
    has_title = first_line.startswith("#") and first_line.lstrip("#").strip() == title.strip()
    parts = [f"# {title.strip()}" if title.strip() and not has_title else "", subtitle.strip(), body]
    return "\n\n".join(part for part in parts if part)


def parse_datetime(value: object) -> datetime | None:
    """A timezone-aware datetime from an ISO 8601 text, ``2021-03-04 10:20:30`` or a date; UTC when unstated."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
