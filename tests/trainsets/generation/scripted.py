"""A scripted provider for the control flow of generation (what is retried, dropped, counted, stored).

It stands in for the model only where a test is about the service's handling of outputs; the
real model's part is tested with the packaged SmolLM2 in test_local_model.py.
"""

import re
from collections.abc import Callable

from apps.rag.providers import ChatMessage, Generation, GenerationParams
from apps.trainsets.generation import prompts

Reply = Callable[[list[ChatMessage], GenerationParams], str]


def is_rejected_answer_request(messages: list[ChatMessage]) -> bool:
    """The pair step asks the twin the instruction itself, under the twin's system prompt."""
    return messages[0].content.startswith("You are the writing twin")


def is_own_text_request(messages: list[ChatMessage]) -> bool:
    return messages[0].content == prompts.OWN_TEXT_SYSTEM


def passage_of(messages: list[ChatMessage]) -> str:
    """The extract in the last user message of an own_text or generated request (inside its fence)."""
    return re.search(r"<(passage-[0-9a-f]+)[^>]*>\n(.*)\n</\1>", messages[-1].content, re.DOTALL)[2]


class ScriptedProvider:
    name = "scripted"

    def __init__(self, reply: Reply, *, model: str = "scripted-model") -> None:
        self.reply = reply
        self.model = model
        self.calls: list[tuple[list[ChatMessage], GenerationParams]] = []

    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Generation:
        self.calls.append((messages, params))
        return Generation(text=self.reply(messages, params), model=self.model)

    def stream(self, messages, params):
        yield self.generate(messages, params).text

    def count_tokens(self, text: str) -> int | None:
        return None
