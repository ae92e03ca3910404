"""A trace per request through the RAG graph, and a span per node of it."""

import uuid

from django.db import models


class Trace(models.Model):
    class Status(models.TextChoices):
        OK = "ok", "OK"
        ERROR = "error", "Error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, default="ask", help_text="What asked: ask, chat, search.")
    question = models.TextField()
    answer = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    error = models.TextField(blank=True)
    model = models.CharField(max_length=300, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.FloatField(default=0)
    filters = models.JSONField(default=dict, blank=True)
    queries = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M:%S}: {self.question[:60]}"


class Span(models.Model):
    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="spans")
    ordinal = models.PositiveSmallIntegerField()
    node = models.CharField(max_length=40)
    duration_ms = models.FloatField()
    input_size = models.PositiveIntegerField(default=0, help_text="Characters (or items) the node received.")
    model = models.CharField(max_length=300, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    chunk_ids = models.JSONField(default=list, blank=True)
    scores = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["trace", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["trace", "ordinal"], name="span_unique_trace_ordinal")]
        indexes = [models.Index(fields=["node", "trace"])]

    def __str__(self) -> str:
        return f"{self.node} ({self.duration_ms:.1f} ms)"
