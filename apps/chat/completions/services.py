"""Chat completions in OpenAI's shape, answered by the same conversation services as /api/v1/chat.

A call is a new conversation owned by the key's user: the earlier turns the client sends are stored as its
history, its last user message is the question, and the twin's answer is stored like any other, with a
trace, so feedback (by ``message_id``) and monitoring work as for the native API.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AbstractBaseUser

from apps.chat.completions.errors import database_error, provider_error
from apps.chat.completions.rendering import sources_text
from apps.chat.completions.selectors import Twin
from apps.chat.errors import DATABASE_DOWN_ERRORS, database_down
from apps.chat.models import Conversation, Message
from apps.chat.services import ChatReply, ChatTurn, chat_reply, chat_reply_stream, chat_turn_start
from apps.monitoring.selectors import trace_tokens
from apps.rag.configuration import RagConfiguration
from apps.rag.providers import ProviderError, served_model_name
from apps.rag.services import RagAnswer


@dataclass(frozen=True)
class CompletionOptions:
    model: str  # the id the client asked for: echoed back, as OpenAI does
    max_tokens: int
    sources_in_content: bool = True
    include_usage: bool = False
    author_ids: list[int] | None = None  # the twin's author, when the model id names one


def completion_start(
    *, user: AbstractBaseUser, twin: Twin, earlier: Sequence[dict[str, str]], question: str, end_user: str = ""
) -> ChatTurn:
    return chat_turn_start(
        user=user,
        message=question,
        conversation=None,
        author=twin.author,
        channel=Conversation.Channel.OPENAI,
        earlier=earlier,
        end_user=end_user,
    )


def _head(turn: ChatTurn, options: CompletionOptions, kind: str, *, fingerprint: str) -> dict[str, Any]:
    return {
        # One conversation per call: its id names the completion.
        "id": f"chatcmpl-{turn.conversation.pk.hex}",
        "object": kind,
        "created": int(time.time()),
        "model": options.model,
        "system_fingerprint": fingerprint,
    }


def _answered_by(result: RagAnswer, options: CompletionOptions) -> str:
    """The model version that answered: the one the graph's author filter chose (an author's production
    version, when it answers as theirs), else all authors'. A reply that ran no search (a greeting) has no
    filter: the twin's author stands."""
    return served_model_name(author_ids=result.filters.get("author_ids") or options.author_ids)


def _usage(result: RagAnswer) -> dict[str, int]:
    prompt, completion = trace_tokens(trace_id=result.trace_id)
    prompt, completion = prompt or 0, completion or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _finish_reason(usage: dict[str, int], options: CompletionOptions) -> str:
    return "length" if usage["completion_tokens"] >= options.max_tokens else "stop"


def _extras(turn: ChatTurn, answer: Message, result: RagAnswer) -> dict[str, Any]:
    """Fields SDKs keep as extras (``completion.citations``): the sources, and the ids feedback needs."""
    return {
        "citations": result.citations,
        "conversation_id": str(turn.conversation.pk),
        "message_id": answer.pk,
        "trace_id": result.trace_id,
    }


def completion_create(*, turn: ChatTurn, configuration: RagConfiguration, options: CompletionOptions) -> dict:
    """The whole answer as one ``chat.completion``. Raises ProviderError when the model backend fails."""
    answer, result = chat_reply(turn=turn, configuration=configuration)
    usage = _usage(result)
    content = result.answer + (sources_text(result.citations) if options.sources_in_content else "")
    message = {"role": "assistant", "content": content, "refusal": None}
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish_reason(usage, options)}
    return {
        **_head(turn, options, "chat.completion", fingerprint=_answered_by(result, options)),
        "choices": [choice],
        "usage": usage,
        **_extras(turn, answer, result),
    }


def _data(payload: dict | str) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


async def completion_chunks(
    *, turn: ChatTurn, configuration: RagConfiguration, options: CompletionOptions
) -> AsyncIterator[str]:
    """Server-Sent Events of ``chat.completion.chunk``: the role, the answer as the graph streams it, the
    sources list, a last chunk with the finish reason and the extras, the usage if asked for, then [DONE].
    A backend that fails mid-answer ends the stream with an error event, as OpenAI's streams do.

    The answer's chunks name the version that answers the twin's author (the model id), known before the
    graph runs; the chunks after the answer name the one that answered, which differs only when a question to
    the all-authors twin named one author, whose own version then answered."""
    head = _head(turn, options, "chat.completion.chunk", fingerprint=served_model_name(author_ids=options.author_ids))
    if options.include_usage:
        head["usage"] = None  # on every chunk but the last, as OpenAI sends it

    def chunk(delta: dict, finish_reason: str | None = None, **extras: Any) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return _data({**head, "choices": [choice], **extras})

    stream = chat_reply_stream(turn=turn, configuration=configuration)
    # The graph starts now, while the role chunk goes out: sending it first would delay the answer.
    first = asyncio.ensure_future(anext(stream))
    yield chunk({"role": "assistant", "content": ""})
    reply: ChatReply | None = None
    try:
        item = await first
        while True:
            if isinstance(item, ChatReply):
                reply = item
            else:
                yield chunk({"content": item})
            try:
                item = await anext(stream)
            except StopAsyncIteration:
                break
    except ProviderError as exc:
        yield _data(provider_error(exc)[1])
        return
    except DATABASE_DOWN_ERRORS as exc:
        database_down(exc)
        yield _data(database_error())
        return
    usage = await sync_to_async(_usage)(reply.result)
    head["system_fingerprint"] = _answered_by(reply.result, options)
    if options.sources_in_content and (sources := sources_text(reply.result.citations)):
        yield chunk({"content": sources})
    yield chunk({}, _finish_reason(usage, options), **_extras(turn, reply.answer, reply.result))
    if options.include_usage:
        yield _data({**head, "choices": [], "usage": usage})
    yield _data("[DONE]")
