"""HTML -> the Markdown-like text every crawler writes (see apps.sources.crawlers.base), by one writer.

Both paths use it: a web page's main content (after boilerplate removal) and a post body from an
export or a feed entry. So one post reads the same, and hashes the same, however it arrived:
headings as ``#`` lines, paragraphs between blank lines, ``- `` list items (nested ones indented),
``> `` block quotes, inline code in backticks, and code blocks fenced with their language and their
text kept byte for byte. Publishing-platform widgets inside a post body (subscribe and share buttons,
sign-up forms) are not the author's writing and are left out; so are images and empty code blocks.
"""

import re

import lxml.html
from lxml.etree import ParserError

_DROP = frozenset(
    {"script", "style", "noscript", "template", "iframe", "svg", "button", "form", "nav", "head", "img", "input"}
    | {"select", "textarea", "video", "audio", "picture", "source", "object", "embed", "canvas", "map"}
)
HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "figure", "figcaption", "ul", "ol"}
    | {"li", "pre", "blockquote", "table", "thead", "tbody", "tfoot", "tr", "hr", "dl", "dt", "dd", "body", "html"}
    | {"details", "summary", "address", "center", "fieldset"}
    | set(HEADINGS)
)
# Widgets publishing platforms put inside a post body (Substack's subscribe box, subscribe and share
# buttons, "Thanks for reading" call-to-action; Ghost's sign-up cards), by class or component name.
_WIDGET_CLASSES = frozenset(
    {"subscription-widget-wrap", "subscription-widget-wrap-editor", "subscription-widget", "subscribe-widget"}
    | {"button-wrapper", "captioned-button-wrap", "share-dialog", "post-ufi", "kg-signup-card", "kg-cta-card"}
)
_WIDGET_COMPONENTS = frozenset(
    {"SubscribeWidgetToDOM", "ButtonCreateButton", "CaptionedButtonToDOM", "DigestPostEmbed", "PollToDOM"}
    | {"InstallSubstackAppToDOM", "CommentPlaceholder"}
)
_LANGUAGE_CLASS = re.compile(r"(?:^|\s)(?:language|lang|highlight|brush:?)-?\s*([A-Za-z0-9_+#.-]+)")
_SPACE = re.compile(r"\s+")
# The permalink mark documentation generators put after a heading (Sphinx and MkDocs "¶", "§", "🔗", a "#"
# after a space):
# not the author's words, and it would open every chunk's heading line.
_PERMALINK = re.compile(r"\s*[¶§🔗]$|[\s\u200b]+#$")


def strip_permalink(heading: str) -> str:
    """A heading's text without the permalink mark a documentation generator put after it."""
    return _PERMALINK.sub("", heading)


def html_to_text(html: str | lxml.html.HtmlElement) -> str:
    """The text of an HTML document, fragment or element, in the crawler text convention."""
    if isinstance(html, str):
        if not html.strip():
            return ""
        try:
            html = lxml.html.fromstring(f"<div>{html}</div>") if _is_fragment(html) else lxml.html.fromstring(html)
        except (ParserError, ValueError):
            return ""
    drop_widgets(html)
    return "\n\n".join(_blocks(html)).strip()


def drop_widgets(root: lxml.html.HtmlElement) -> None:
    """Remove platform widgets (subscribe, share) from a post body, in place."""
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None:
            continue
        classes = set((element.get("class") or "").split())
        if classes & _WIDGET_CLASSES or element.get("data-component-name") in _WIDGET_COMPONENTS:
            element.drop_tree()


def fence(code: str, language: str = "") -> str:
    """A fenced code block around code, its fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    marks = "`" * max(3, longest + 1)
    body = code[:-1] if code.endswith("\n") else code
    return f"{marks}{language}\n{body}\n{marks}"


def code_language(element: lxml.html.HtmlElement) -> str:
    """The language a <pre> (or its <code>) names in its classes: ``language-python``, ``lang-sh``..."""
    for node in (element, *element.iter("code")):
        match = _LANGUAGE_CLASS.search(node.get("class") or "")
        if match:
            return match.group(1).lower()
    return ""


def _is_fragment(html: str) -> bool:
    head = html.lstrip()[:200].lower()
    return not head.startswith(("<!doctype", "<html", "<?xml"))


def _blocks(element: lxml.html.HtmlElement) -> list[str]:
    """Walks an element: inline runs become paragraphs, block children their own blocks."""
    blocks: list[str] = []
    run: list[str] = [_space(element.text)]
    for child in element:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag in _BLOCKS:
            blocks += _paragraph(run)
            run = []
            blocks += _block(child, tag)
        elif tag and tag not in _DROP:
            run.append(_inline(child))
        run.append(_space(child.tail))
    return blocks + _paragraph(run)


def _block(element: lxml.html.HtmlElement, tag: str) -> list[str]:
    if tag in HEADINGS:
        text = strip_permalink(_inline_text(element))
        return [f"{'#' * HEADINGS[tag]} {text}"] if text else []
    if tag == "pre":
        return _fenced(element)
    if tag in {"ul", "ol"}:
        items = [_list_item(li) for li in element if isinstance(li.tag, str) and li.tag.lower() == "li"]
        items = [item for item in items if item]
        return ["\n".join(items)] if items else []
    if tag == "blockquote":
        inner = "\n\n".join(_blocks(element))
        return ["\n".join(f"> {line}" if line else ">" for line in inner.splitlines())] if inner else []
    if tag == "tr":
        cells = [_inline_text(cell) for cell in element if isinstance(cell.tag, str) and cell.tag in {"td", "th"}]
        cells = [cell for cell in cells if cell]
        return [" | ".join(cells)] if cells else []
    if tag == "hr":
        return []
    return _blocks(element)


def _list_item(li: lxml.html.HtmlElement) -> str:
    lines = [line for line in "\n\n".join(_blocks(li)).splitlines() if line.strip()]
    if not lines:
        return ""
    return "\n".join([f"- {lines[0]}", *(f"  {line}" for line in lines[1:])])


def _fenced(pre: lxml.html.HtmlElement) -> list[str]:
    for br in pre.iter("br"):  # editors (Medium among them) break code lines with <br>
        br.tail = "\n" + (br.tail or "")
    code = pre.text_content()
    code = code[1:] if code.startswith("\n") else code  # HTML ignores a newline right after <pre>
    if not code.strip():
        return []  # an empty block (LinkedIn's editor leaves them) is no code
    return [fence(code.rstrip("\n"), code_language(pre))]


def _inline(element: lxml.html.HtmlElement) -> str:
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    if tag == "br":
        return "\n"
    if tag in _DROP:
        return ""
    if tag == "code":
        code = element.text_content()
        return f"`{code}`" if code.strip() else code
    # Blocks inside an inline context (paragraphs in a table cell) must not run into each other.
    return _space(element.text) + "".join(
        _inline(child) + (" " if child.tag in _BLOCKS else "") + _space(child.tail)
        for child in element
        if isinstance(child.tag, str)
    )


def _inline_text(element: lxml.html.HtmlElement) -> str:
    return " ".join("".join(_paragraph([_inline(element)])).split())


def _space(text: str | None) -> str:
    return _SPACE.sub(" ", text) if text else ""


def _paragraph(run: list[str]) -> list[str]:
    lines = [line.strip() for line in "".join(run).split("\n")]
    text = "\n".join(line for line in lines if line)
    return [text] if text else []
