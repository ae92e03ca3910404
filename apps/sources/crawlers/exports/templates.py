"""What static-site generators leave in a page's source that is not the author's writing.

Liquid (Jekyll) and Go templates (Hugo shortcodes) are removed from the prose, and Markdown image
links too: they name files, not words. Code blocks are left exactly as written. Jekyll's
``{% highlight lang %}`` becomes a fenced block and ``{% raw %}`` keeps its content literally.
"""

import re

_FENCE = re.compile(r"^(```+|~~~+)[^\n]*\n.*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_HIGHLIGHT = re.compile(r"{%-?\s*highlight\s+([\w+#.-]+)[^%]*-?%}\n?(.*?)\n?{%-?\s*endhighlight\s*-?%}", re.DOTALL)
_RAW = re.compile(r"{%-?\s*raw\s*-?%}(.*?){%-?\s*endraw\s*-?%}", re.DOTALL)
_SHORTCODE = re.compile(r"{{[<%].*?[%>]}}", re.DOTALL)
_LIQUID = re.compile(r"{%.*?%}|{{.*?}}", re.DOTALL)
# ![alt](src "title"), ![alt][ref], and a linked image [![alt](src)](href): all of it goes.
_IMAGE = re.compile(r"\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)|!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_RAW_MARK = "\ue001{}\ue001"


def has_template_markup(text: str) -> bool:
    return bool(_LIQUID.search(_FENCE.sub("", text)))


def strip_site_markup(text: str) -> str:
    """The prose without template tags and image links; code blocks untouched."""
    text = _HIGHLIGHT.sub(lambda m: f"```{m.group(1)}\n{m.group(2)}\n```", text)
    raws: list[str] = []

    def keep_raw(match: re.Match[str]) -> str:
        raws.append(match.group(1))
        return _RAW_MARK.format(len(raws) - 1)

    pieces, position = [], 0
    for fence in _FENCE.finditer(text):
        pieces.append(_prose(text[position : fence.start()], keep_raw))
        pieces.append(fence.group(0))
        position = fence.end()
    pieces.append(_prose(text[position:], keep_raw))
    cleaned = "".join(pieces)
    return re.sub("\ue001(\\d+)\ue001", lambda m: raws[int(m.group(1))], cleaned).strip()


def _prose(text: str, keep_raw) -> str:
    text = _RAW.sub(keep_raw, text)
    text = _SHORTCODE.sub("", text)
    text = _LIQUID.sub("", text)
    text = _IMAGE.sub("", text)
    text = re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", text)  # where a removed image left a gap
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text)
