"""API keys, and the conversations applications hold with the twin through them."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

API_KEY_SCOPES = {
    "chat": "Chat: ask the twins; conversations and feedback",
    "search": "Search the twins' passages",
    "sources": "Read the list of sources",
    "staff": "Staff operations (add sources, start crawls); only for staff users",
}


def api_key_scopes_all() -> list[str]:
    return list(API_KEY_SCOPES)


class ApiKey(models.Model):
    """A per-user key, shown once; only its SHA-256 is kept. ``prefix`` finds it without a scan.

    A key does what its user may, and only within its ``scopes``; it stops working at ``expires_at``.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. the application using it.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = ArrayField(
        models.CharField(max_length=16, choices=list(API_KEY_SCOPES.items())),
        default=api_key_scopes_all,
        help_text="What the key may be used for.",
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the key does not expire.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class Conversation(models.Model):
    class Channel(models.TextChoices):
        API = "api", "Chat API"
        OPENAI = "openai", "OpenAI-compatible API"
        WEB = "web", "Chat page"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=200, blank=True)
    author_name = models.CharField(max_length=200, blank=True, help_text="The author the conversation asks about.")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.API)
    end_user = models.CharField(
        max_length=256, blank=True, help_text="Who the calling application says it asked for (OpenAI's `user`)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["user", "-updated_at"])]

    def __str__(self) -> str:
        return self.title or str(self.id)


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Twin"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    citations = models.JSONField(default=list, blank=True)
    trace = models.ForeignKey("monitoring.Trace", null=True, blank=True, on_delete=models.SET_NULL)
    # An answer cut short (the model backend failed, or the client hung up): the text is what was written so far.
    incomplete = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"


class Feedback(models.Model):
    """A person's verdict on an answer; an edited answer becomes a preference pair (chosen = the edit)."""

    class Rating(models.TextChoices):
        UP = "up", "Good"
        DOWN = "down", "Bad"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback")
    rating = models.CharField(max_length=4, choices=Rating.choices)
    edited_answer = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="feedback_one_per_user")]

    def __str__(self) -> str:
        return f"{self.rating} on message {self.message_id} by {self.user}"
