"""Reading what the model wrote: one instruction (own_text mode), or JSON instruction–answer pairs (generated).

Models wrap their output in chatter, code fences and labels; these parsers take what is usable and
raise InvalidOutput (saying why) for anything else, so the caller can retry or drop it.
"""

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from apps.trainsets.quality import repeats_prompt, words
from lib.errors import TwinsiteError

INSTRUCTION_WORDS = (3, 80)
_LABEL = re.compile(r"^(?:\d+[.)]\s*|[-*]\s+|(?:question|instruction|prompt|q)\s*\d*\s*[:.-]\s*)+", re.IGNORECASE)
_QUOTES = "\"'`*“”‘’ "
# Replies about the task instead of doing it ("Here's a question ...:", "Sure! ...").
_META = re.compile(r"^(?:here(?: is|'s| are)|sure\b|certainly\b|as an ai\b|i'm sorry|i cannot)", re.IGNORECASE)
_FENCE = re.compile(r"^```[\w-]*\s*|\s*```$")


class InvalidOutput(TwinsiteError):
    """The model's output cannot be used; the message says why (kept for the run's counts and logs)."""


def parse_instruction(text: str, *, passage: str) -> str:
    """The instruction in an own_text reply: its first line, without labels or quotes."""
    line = next((line for line in text.strip().split("\n") if line.strip()), "")
    instruction = _LABEL.sub("", line.strip()).strip(_QUOTES).strip()
    if not instruction:
        raise InvalidOutput("the reply is empty")
    if _META.match(instruction):
        raise InvalidOutput(f"the reply talks about the task instead of doing it: {instruction[:80]!r}")
    count = len(words(instruction))
    if not INSTRUCTION_WORDS[0] <= count <= INSTRUCTION_WORDS[1]:
        raise InvalidOutput(f"the instruction has {count} words, not {INSTRUCTION_WORDS[0]}-{INSTRUCTION_WORDS[1]}")
    if repeats_prompt(passage, instruction):
        raise InvalidOutput("the instruction copies the passage")
    return instruction


class GeneratedPair(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    instruction: str = Field(min_length=1)
    answer: str = Field(min_length=1)


class GeneratedPairs(BaseModel):
    model_config = ConfigDict(extra="ignore")

    pairs: list[GeneratedPair] = Field(min_length=1)


def _json_payload(text: str) -> object:
    body = _FENCE.sub("", text.strip())
    try:
        return json.loads(body)
    except ValueError:
        pass
    # JSON inside chatter: the outermost object (or list) in the reply.
    for opening, closing in ("{}", "[]"):
        start, end = body.find(opening), body.rfind(closing)
        if 0 <= start < end:
            try:
                return json.loads(body[start : end + 1])
            except ValueError:
                continue
    raise InvalidOutput("the reply holds no JSON")


def parse_generated(text: str, *, limit: int) -> list[GeneratedPair]:
    """Up to limit distinct instruction–answer pairs from a JSON reply: {"pairs": [...]} or a bare list."""
    payload = _json_payload(text)
    if isinstance(payload, list):
        payload = {"pairs": payload}
    try:
        pairs = GeneratedPairs.model_validate(payload).pairs
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}" for e in exc.errors()[:3])
        raise InvalidOutput(f"the JSON does not match the expected shape ({problems})") from None
    distinct: dict[str, GeneratedPair] = {}
    for pair in pairs:
        distinct.setdefault(" ".join(words(pair.instruction)), pair)
    return list(distinct.values())[:limit]
