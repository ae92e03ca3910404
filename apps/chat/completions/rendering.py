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


def sources_text(citations: list[dict]) -> str:
    """ "\n\nSources:\n- [n] link" for each citation; nothing when there are none."""
    if not citations:
        return ""
    lines = [f"- [{citation['n']}] {_link(citation)}" for citation in citations]
    return "\n\nSources:\n" + "\n".join(lines)
