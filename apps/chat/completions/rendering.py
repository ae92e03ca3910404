"""The short sources list appended to an answer's text, for clients that show only the content.

Markdown, since most chat clients render it: ``- [1] [Title](https://…)``. Titles come from crawled pages,
so the characters that would make Markdown (a link of their own, emphasis, HTML) are escaped, and only
http(s) addresses become links.
"""

import re
from urllib.parse import quote

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#!|~])")


def _escaped(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def _link(citation: dict) -> str:
    url = str(citation.get("document_url") or "")
    title = _escaped(str(citation.get("title") or "") or url or "untitled")
    if not url.startswith(("http://", "https://")):
        return title
    # Spaces, parentheses and angle brackets would end the link early: percent-encode them.
    return f"[{title}]({quote(url, safe=':/?#@!$&*+,;=%~-._[]')})"


UNCITED_SHOWN = 3


def sources_text(citations: list[dict]) -> str:
    """A "Sources:" list of the cited sources; when the answer cites none, the best few retrieved, said to be so;
    nothing when there are none."""
    if not citations:
        return ""
    cited = all(citation.get("cited", True) for citation in citations)
    shown = citations if cited else citations[:UNCITED_SHOWN]
    lines = [f"- [{citation['n']}] {_link(citation)}" for citation in shown]
    return ("\n\nSources:\n" if cited else "\n\nSources (retrieved, not cited):\n") + "\n".join(lines)
