"""Conversations with the twin: a user's message in, the twin's cited answer out, both kept."""

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, transaction

from apps.chat.errors import DATABASE_DOWN, DATABASE_DOWN_ERRORS, database_down, envelope
from apps.chat.models import Conversation, Feedback, Message
from apps.monitoring.models import Trace
from apps.rag.configuration import RagConfiguration
from apps.rag.providers import ProviderError, ProviderUnavailable
from apps.rag.services import RagAnswer, rag_run
from apps.sources.selectors import readable_author_ids
from lib.errors import TwinsiteError

logger = logging.getLogger(__name__)

HISTORY_MESSAGES = 6
STOP_WAIT_S = 5.0  # how long a stopped stream waits for its graph run to record its trace


@dataclass(frozen=True)
class ChatTurn:
    conversation: Conversation
    question: Message
    history: list[dict[str, str]]
    author: str | None
    # The authors the user may read, as when the turn started: the graph retrieves from no others.
    readable_author_ids: tuple[int, ...] | None


@transaction.atomic
def chat_turn_start(
    *,
    user: AbstractBaseUser,
    message: str,
    conversation: Conversation | None,
    author: str | None,
    channel: str = Conversation.Channel.API,
    earlier: Sequence[dict[str, str]] = (),
    end_user: str = "",
) -> ChatTurn:
    """Store the user's message (in a new conversation when none is given) with the history before it.

    ``earlier`` are turns a client sends along with a new conversation (OpenAI-style clients send the whole
    conversation every time): they are stored before the message, so the history comes from the store alone.
    """
    if conversation is None:
        conversation = Conversation.objects.create(
            user=user, title=message[:200], author_name=author or "", channel=channel, end_user=end_user
        )
    if earlier:
        Message.objects.bulk_create(
            Message(conversation=conversation, role=turn["role"], content=turn["content"]) for turn in earlier
        )
    history = [
        {"role": m.role, "content": m.content}
        for m in reversed(conversation.messages.order_by("-created_at", "-id")[:HISTORY_MESSAGES])
    ]
    question = Message.objects.create(conversation=conversation, role=Message.Role.USER, content=message)
    conversation.save(update_fields=["updated_at"])
    readable = readable_author_ids(user=user)
    return ChatTurn(conversation, question, history, author or conversation.author_name or None, readable)


def chat_turn_finish(*, turn: ChatTurn, result: RagAnswer) -> Message:
    return Message.objects.create(
        conversation=turn.conversation,
        role=Message.Role.ASSISTANT,
        content=result.answer,
        citations=result.citations,
        trace_id=result.trace_id,
    )


def _rag_kwargs(turn: ChatTurn, configuration: RagConfiguration | None) -> dict:
    return {
        "question": turn.question.content,
        "history": turn.history,
        "author": turn.author,
        "configuration": configuration,
        "kind": "chat",
        "readable_author_ids": turn.readable_author_ids,
    }


def chat_reply(*, turn: ChatTurn, configuration: RagConfiguration | None = None) -> tuple[Message, RagAnswer]:
    result = async_to_sync(rag_run)(**_rag_kwargs(turn, configuration))
    return chat_turn_finish(turn=turn, result=result), result


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@dataclass(frozen=True)
class ChatReply:
    """The end of a streamed reply: the stored answer and what the graph returned."""

    answer: Message
    result: RagAnswer


def chat_turn_interrupted(*, turn: ChatTurn, text: str, trace_id: uuid.UUID) -> Message | None:
    """Keep what the twin had written of an answer cut short (its backend failed, or the client hung up),
    marked incomplete and linked to the run's trace. Nothing is kept when nothing was written."""
    if not text:
        return None
    traced = Trace.objects.filter(pk=trace_id).exists()  # a database that failed may have kept no trace
    return Message.objects.create(
        conversation=turn.conversation,
        role=Message.Role.ASSISTANT,
        content=text,
        trace_id=trace_id if traced else None,
        incomplete=True,
    )


async def _stopped(run: asyncio.Future) -> None:
    """Cancel a graph run that is still going and wait (a few seconds at most) while it records its trace."""
    if not run.done():
        run.cancel()
        await asyncio.wait([run], timeout=STOP_WAIT_S)
    if run.done() and not run.cancelled():
        run.exception()  # retrieved: the caller already has the error, if any


async def chat_reply_stream(
    *, turn: ChatTurn, configuration: RagConfiguration | None = None
) -> AsyncIterator[str | ChatReply]:
    """The answer's tokens as the model writes them, then the stored answer. A failing backend raises
    ProviderError (ProviderUnavailable when it is down) after the tokens that came before the failure.

    An answer that does not finish (the backend failed, or the reader stopped: a client that hangs up cancels
    the task reading this) keeps its tokens so far as an incomplete message; a reader that stops also stops
    the graph, whose trace then says the client disconnected.
    """
    tokens: asyncio.Queue[str | None] = asyncio.Queue()
    written: list[str] = []
    trace_id = uuid.uuid4()
    run = asyncio.ensure_future(
        rag_run(**_rag_kwargs(turn, configuration), on_token=tokens.put_nowait, trace_id=trace_id)
    )
    run.add_done_callback(lambda _: tokens.put_nowait(None))
    result = None
    try:
        while (token := await tokens.get()) is not None:
            written.append(token)
            yield token
        result = run.result()
    finally:
        if result is None:
            await _stopped(run)
            try:
                await sync_to_async(chat_turn_interrupted)(turn=turn, text="".join(written), trace_id=trace_id)
            except DatabaseError as exc:  # the database is down too: the reason the answer stopped stands
                logger.warning("The partial answer could not be kept: %s", exc.__class__.__name__)
    answer = await sync_to_async(chat_turn_finish)(turn=turn, result=result)
    yield ChatReply(answer, result)


async def chat_reply_events(*, turn: ChatTurn, configuration: RagConfiguration | None = None) -> AsyncIterator[str]:
    """Server-Sent Events: ``token`` events as the answer is written, then ``done`` with citations and ids.

    A model backend that fails mid-answer ends the stream with an ``error`` event in the API's envelope.
    """
    try:
        async for item in chat_reply_stream(turn=turn, configuration=configuration):
            if isinstance(item, ChatReply):
                yield _event("done", chat_payload(turn=turn, answer=item.answer, result=item.result))
            else:
                yield _event("token", {"token": item})
    except ProviderUnavailable as exc:
        yield _event("error", envelope("model_unavailable", str(exc)))
    except ProviderError as exc:
        yield _event("error", envelope("model_error", str(exc)))
    except DATABASE_DOWN_ERRORS as exc:
        database_down(exc)
        yield _event("error", envelope("database_unavailable", DATABASE_DOWN))


def chat_payload(*, turn: ChatTurn, answer: Message, result: RagAnswer) -> dict:
    return {
        "answer": result.answer,
        "citations": result.citations,
        "conversation_id": str(turn.conversation.pk),
        "message_id": answer.pk,
        "trace_id": result.trace_id,
    }


def feedback_record(
    *, user: AbstractBaseUser, message: Message, rating: str, edited_answer: str = "", comment: str = ""
) -> Feedback:
    if message.role != Message.Role.ASSISTANT:
        raise TwinsiteError("Feedback is given on the twin's answers, not on questions.")
    feedback, _ = Feedback.objects.update_or_create(
        message=message, user=user, defaults={"rating": rating, "edited_answer": edited_answer, "comment": comment}
    )
    return feedback


def conversation_delete(*, conversation: Conversation) -> None:
    """Delete a conversation with its messages, their feedback and the preference pairs made from that feedback."""
    conversation.delete()


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    title = " ".join(title.split())
    if not title:
        raise TwinsiteError("Give the conversation a title.")
    conversation.title = title[:200]
    conversation.save(update_fields=["title", "updated_at"])
    return conversation
