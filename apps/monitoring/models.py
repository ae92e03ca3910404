"""A trace per request through the RAG graph, and a span per node of it."""

import uuid

from django.db import models


class Trace(models.Model):
    class Status(models.TextChoices):
        OK = "ok", "OK"
        ERROR = "error", "Error"
        # The caller went away (a streaming client hung up) and the run was stopped part-way.
        CLIENT_DISCONNECTED = "client_disconnected", "Client disconnected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, default="ask", help_text="What asked: ask, chat, search.")
    question = models.TextField()
    answer = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OK)
    error = models.TextField(blank=True)
    model = models.CharField(max_length=300, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.FloatField(default=0)
    filters = models.JSONField(default=dict, blank=True)
    queries = models.JSONField(default=list, blank=True)
    # generated, extractive, mixed, no_answer or direct (no retrieval); db_default: older writers omit it.
    answer_kind = models.CharField(max_length=12, blank=True, default="", db_default="")
    # Share of the answer's sentences supported by the text they cite, when this answer was scored.
    faithfulness = models.FloatField(null=True, blank=True)
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


class EvalRun(models.Model):
    """One run of evaluate_rag: what was asked, with which configuration and model, and what it scored."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200, blank=True, help_text="A label to tell runs apart.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    author_name = models.CharField(max_length=200, blank=True)
    questions_source = models.CharField(max_length=500, help_text="The questions file, or how they were generated.")
    model = models.CharField(max_length=300, blank=True, help_text="The generation model that answered.")
    configuration = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    items = models.JSONField(default=list, blank=True, help_text="Per question: what was asked, answered and scored.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"RAG evaluation {self.pk} ({self.created_at:%Y-%m-%d %H:%M})"


class Notice(models.Model):
    """Something operators should know without opening the admin: a source whose crawls keep failing, or a
    model backend that has been down for a while. Shown as a banner to staff and emailed once when raised.

    A condition is tracked from when it is first seen; it is *raised* once it has lasted long enough
    (NOTICE_* settings), and resolved when it ends. Muting hides it and stops the email; a new occurrence
    after it resolved is a new notice.
    """

    class Kind(models.TextChoices):
        CRAWL_FAILING = "crawl_failing", "Crawls keep failing"
        BACKEND_DOWN = "backend_down", "Model backend down"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    subject = models.CharField(max_length=100, help_text="What it is about: a source id, a provider name.")
    message = models.TextField()
    first_seen_at = models.DateTimeField(help_text="When the condition was first seen.")
    raised_at = models.DateTimeField(null=True, blank=True, help_text="When it had lasted long enough to tell.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    muted = models.BooleanField(default=False, help_text="Muted: no banner and no email for this notice.")

    class Meta:
        ordering = ["-first_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"], condition=models.Q(resolved_at__isnull=True), name="notice_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"
