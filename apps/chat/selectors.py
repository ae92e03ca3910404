"""Reads for the API: a user only ever sees their own conversations, and only what they may still read."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.db.models.functions import Lower, Trim
from django.http import Http404

from apps.chat.models import Conversation, Message
from apps.documents.models import Document
from apps.sources.models import Author
from apps.sources.selectors import authors_readable, readable_author_ids

WITHHELD = "(This answer drew on writing you may no longer read.)"


def _unreadable_names(user: AbstractBaseUser) -> list[str]:
    """Names, aliases and handles, lower-cased, of the authors this user may not read."""
    unreadable = Author.objects.exclude(pk__in=authors_readable(user=user).values("pk"))
    names: set[str] = set()
    for name, aliases, handles in unreadable.values_list("name", "aliases", "handles"):
        names |= {str(n).strip().lower() for n in [name, *aliases, *(handles or {}).values()]}
    return sorted(names)


def conversations_of(*, user: AbstractBaseUser, channel: str | None = None) -> QuerySet[Conversation]:
    """The user's conversations (held through ``channel``, if given), less those about an author they may not
    read (any more)."""
    conversations = Conversation.objects.filter(user=user)
    if channel:
        conversations = conversations.filter(channel=channel)
    hidden = _unreadable_names(user)
    if hidden:
        conversations = conversations.annotate(author_key=Lower(Trim("author_name"))).exclude(author_key__in=hidden)
    return conversations


def conversation_of(*, user: AbstractBaseUser, conversation_id) -> Conversation:
    """The user's conversation, or 404: another user's looks exactly like one that does not exist."""
    conversation = conversations_of(user=user).filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404
    return conversation


def message_of(*, user: AbstractBaseUser, message_id: int) -> Message:
    message = (
        Message.objects.filter(pk=message_id, conversation__in=conversations_of(user=user))
        .select_related("conversation")
        .first()
    )
    if message is None:
        raise Http404
    return message


def messages_shown(*, conversation: Conversation, user: AbstractBaseUser) -> list[Message]:
    """The conversation's messages as the user may see them now: an answer citing writing of an author they
    may no longer read is withheld, its citations with it (nothing is changed in the database)."""
    messages = list(conversation.messages.all())
    readable = readable_author_ids(user=user)
    cited = {c.get("document_id") for m in messages for c in (m.citations or []) if isinstance(c, dict)}
    if readable is None or not cited:
        return messages
    blocked = set(Document.objects.filter(pk__in=cited).exclude(author_id__in=readable).values_list("pk", flat=True))
    for message in messages:
        if any(isinstance(c, dict) and c.get("document_id") in blocked for c in message.citations or []):
            message.content, message.citations = WITHHELD, []
    return messages
