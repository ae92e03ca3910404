"""Untrusted text (crawled pages, exports, chat) inside a prompt: fenced, and unable to leave its fence.

Each prompt gets fences with a random tag (``<source-3f9a0c1b2d4e>``), so text written before the request
cannot know the closing tag. Inside the fence, anything that could still read as one of our tags, or as a
chat-template marker, has its opening bracket replaced by ``‹``: any case, spaces or line breaks inside the
tag, invisible characters between its letters, full-width and small brackets, HTML entities, ``\\u003c``
and ``%3C`` spellings. Other text, code included, is left exactly as it was.
"""

import re
import secrets
from dataclasses import dataclass, field

# Characters that render as nothing and could split a tag name from our patterns.
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff"
)
_GAP = rf"[\s{_INVISIBLE}]*"
# Ways of writing "<" that a model may read as one.
_LESS_THAN = r"(?:<|\uff1c|\ufe64|\u2329|\u3008|&lt;?|&#0*60;?|&#x0*3c;?|\\u003c|\\x3c|%3c)"
# Chat-template markers: <|im_start|>, <|eot_id|>, <|system|> ...
_TEMPLATE_MARKER = re.compile(rf"{_LESS_THAN}{_GAP}\|", re.IGNORECASE)
NEUTRAL_BRACKET = "\u2039"  # ‹

# Tag names every prompt of ours uses: neutralised in untrusted text whether or not this prompt uses them.
DELIMITER_NAMES = ("source", "passage", "instruction", "author_answer", "candidate_answer", "document", "system")


def _name_pattern(name: str) -> str:
    """A tag name, with invisible characters tolerated between its letters."""
    return f"[{_INVISIBLE}]*".join(re.escape(char) for char in name)


def _tag_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(_name_pattern(name) for name in sorted(set(names), key=len, reverse=True))
    # "<", then spaces, slashes, "!" or "?" in any order, then one of the names (a random suffix may follow).
    return re.compile(rf"{_LESS_THAN}(?={_GAP}[/!?{_INVISIBLE}\s]*{_GAP}(?:{alternatives}))", re.IGNORECASE)


_DEFAULT_TAGS = _tag_pattern(DELIMITER_NAMES)


def untrusted(text: str, *, names: tuple[str, ...] = ()) -> str:
    """``text`` unable to open or close any of our tags (DELIMITER_NAMES and ``names``) or a template turn."""
    tags = _tag_pattern(DELIMITER_NAMES + names) if names else _DEFAULT_TAGS
    text = tags.sub(NEUTRAL_BRACKET, text)
    return _TEMPLATE_MARKER.sub(f"{NEUTRAL_BRACKET}|", text)


def attribute(value: str) -> str:
    """A value to put inside a tag's quotes: one line, no quotes or angle brackets, neutralised."""
    value = untrusted(" ".join(str(value).split()))
    return value.replace('"', "'").replace("<", NEUTRAL_BRACKET).replace(">", "\u203a")


@dataclass(frozen=True)
class Fence:
    """A delimiter of one prompt: ``<name-token attr="...">`` ... ``</name-token>``, the token random."""

    name: str
    token: str = field(default_factory=lambda: secrets.token_hex(6))

    @property
    def tag(self) -> str:
        return f"{self.name}-{self.token}"

    def wrap(self, text: str, **attributes: object) -> str:
        attrs = "".join(f' {key}="{attribute(str(value))}"' for key, value in attributes.items())
        return f"<{self.tag}{attrs}>\n{untrusted(text, names=(self.name,))}\n</{self.tag}>"
