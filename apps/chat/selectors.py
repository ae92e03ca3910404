"""Reads for the API: a user only ever sees their own conversations."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404

from apps.chat.models import Conversation, Message


def conversations_of(*, user: AbstractBaseUser, channel: str | None = None) -> QuerySet[Conversation]:
    conversations = Conversation.objects.filter(user=user)
    return conversations.filter(channel=channel) if channel else conversations


def conversation_of(*, user: AbstractBaseUser, conversation_id) -> Conversation:
    """The user's conversation, or 404: another user's looks exactly like one that does not exist."""
    conversation = conversations_of(user=user).filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404
    return conversation


def message_of(*, user: AbstractBaseUser, message_id: int) -> Message:
    message = Message.objects.filter(pk=message_id, conversation__user=user).select_related("conversation").first()
    if message is None:
        raise Http404
    return message
