"""The twin's training data: instruction samples, preference pairs, their human labels, and frozen versions.

Generation fills InstructionSample and PreferencePair; annotators review them
(PreferenceLabel, sample review fields); export_dataset freezes what passed
into a DatasetVersion on disk. Every sample and pair keeps its source document,
because the train/test split is made by document.
"""

from django.conf import settings
from django.db import models

from apps.documents.models import Chunk, Document
from apps.sources.models import Author


class GenerationRun(models.Model):
    """One `generate_datasets` job: what it was asked for, how far it got, what it made and dropped."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    options = models.JSONField(default=dict, blank=True, help_text="Mode, limit, provider and model asked for.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    extracts_total = models.PositiveIntegerField(default=0)
    extracts_done = models.PositiveIntegerField(default=0)
    samples_created = models.PositiveIntegerField(default=0)
    pairs_created = models.PositiveIntegerField(default=0)
    # {"invalid_output": 3, "too_short": 1, ...}: why generated items were dropped.
    dropped = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Generation #{self.pk} ({self.status})"

    @property
    def progress(self) -> float:
        return self.extracts_done / self.extracts_total if self.extracts_total else 0.0


class Review(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    FILTERED = "filtered", "Dropped by a quality filter"


class InstructionSample(models.Model):
    """An instruction and the answer the twin should give, drawn from one extract of one document."""

    class Mode(models.TextChoices):
        GENERATED = "generated", "Model wrote instruction and answer"
        OWN_TEXT = "own_text", "Answer is the author's own text"

    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="instruction_samples")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="instruction_samples")
    chunks = models.ManyToManyField(Chunk, blank=True, related_name="instruction_samples")
    generation_run = models.ForeignKey(
        GenerationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="samples"
    )
    mode = models.CharField(max_length=10, choices=Mode.choices)
    extract = models.TextField(help_text="The author's text the sample was made from.")
    extract_hash = models.CharField(max_length=64, help_text="SHA-256 of the extract: re-running adds nothing twice.")
    ordinal = models.PositiveSmallIntegerField(default=0, help_text="Which of the samples made from this extract.")
    instruction = models.TextField()
    answer = models.TextField()
    original_answer = models.TextField(blank=True, help_text="The answer before a reviewer edited it.")
    model = models.CharField(max_length=200, blank=True, help_text="The model that generated it.")
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.PENDING)
    filter_reason = models.CharField(max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "extract_hash", "mode", "ordinal"], name="instruction_sample_unique_extract"
            )
        ]
        indexes = [models.Index(fields=["author", "review"])]

    def __str__(self) -> str:
        return self.instruction[:80]


class PreferencePair(models.Model):
    """A prompt with a preferred (chosen) and a worse (rejected) answer.

    chosen is the author's own passage or a person's edit; rejected is a model's
    answer. Annotators may overturn that: labels decide what the export holds.
    """

    class Origin(models.TextChoices):
        SAMPLE = "sample", "From an instruction sample"
        FEEDBACK = "feedback", "From chat feedback"

    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.CASCADE, related_name="preference_pairs")
    # The split is made by document; a pair from chat feedback has none and is grouped by its conversation.
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.CASCADE, related_name="preference_pairs"
    )
    origin = models.CharField(max_length=10, choices=Origin.choices)
    sample = models.ForeignKey(
        InstructionSample, null=True, blank=True, on_delete=models.CASCADE, related_name="preference_pairs"
    )
    feedback = models.OneToOneField(
        "chat.Feedback", null=True, blank=True, on_delete=models.CASCADE, related_name="preference_pair"
    )
    generation_run = models.ForeignKey(
        GenerationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="pairs"
    )
    prompt = models.TextField()
    chosen = models.TextField()
    rejected = models.TextField()
    rejected_model = models.CharField(max_length=200, blank=True, help_text="The model that wrote the rejected answer.")
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.PENDING)
    filter_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "rejected_model"],
                condition=models.Q(sample__isnull=False),
                name="preference_pair_one_per_sample_model",
            )
        ]
        indexes = [models.Index(fields=["review", "created_at"])]

    def __str__(self) -> str:
        return self.prompt[:80]


class PreferenceLabel(models.Model):
    """One annotator's verdict on one pair, with the order the two answers were shown in."""

    class Choice(models.TextChoices):
        A = "a", "A is better"
        B = "b", "B is better"
        TIE = "tie", "Tie"
        BOTH_BAD = "both_bad", "Both bad"
        SKIP = "skip", "Skipped"

    pair = models.ForeignKey(PreferencePair, on_delete=models.CASCADE, related_name="labels")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference_labels")
    # True when answer A on screen was the pair's `chosen`; the shown order is random per label.
    chosen_shown_first = models.BooleanField()
    choice = models.CharField(max_length=10, choices=Choice.choices)
    edited_answer = models.TextField(blank=True, help_text="The preferred answer as the annotator rewrote it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["pair", "annotator"], name="preference_label_one_per_annotator")]

    def __str__(self) -> str:
        return f"{self.annotator} on pair {self.pair_id}: {self.choice}"

    @property
    def prefers(self) -> str:
        """What the label says of the pair in its own terms: chosen, rejected, tie, both_bad or skip."""
        if self.choice == self.Choice.A:
            return "chosen" if self.chosen_shown_first else "rejected"
        if self.choice == self.Choice.B:
            return "rejected" if self.chosen_shown_first else "chosen"
        return str(self.choice)


class DatasetVersion(models.Model):
    """A frozen export: the files on disk, how they were split, and what was filtered out."""

    class Kind(models.TextChoices):
        INSTRUCT = "instruct", "Instruction (SFT)"
        PREFERENCE = "preference", "Preference (DPO)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    number = models.PositiveIntegerField(help_text="1, 2, ... per kind.")
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    path = models.CharField(max_length=1000, help_text="Directory holding the JSONL files and the datasets copy.")
    test_fraction = models.FloatField(default=0.1)
    seed = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text='{"train": n, "test": n, "documents_train": n, ...}')
    filter_stats = models.JSONField(default=dict, blank=True, help_text='{"near_duplicate": n, ...}: what was dropped.')
    files = models.JSONField(default=dict, blank=True, help_text='{"train": "instruct_train.jsonl", ...}')
    hub_repo = models.CharField(max_length=200, blank=True, help_text="Hub dataset it was pushed to, if any.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "number"], name="dataset_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.kind} v{self.number}"

    @property
    def name(self) -> str:
        return f"{self.kind}-v{self.number}"

    @property
    def split_summary(self) -> str:
        """How many items and documents (or sections of one document) went to each side, in words."""
        counts, unit = self.counts, "sample" if self.kind == self.Kind.INSTRUCT else "pair"

        def side(name: str) -> str:
            if f"sections_{name}" in counts:
                return (
                    f"{_plural(counts[name], unit)} from {_plural(counts[f'sections_{name}'], 'section')} of 1 document"
                )
            return f"{_plural(counts[name], unit)} from {_plural(counts[f'documents_{name}'], 'document')}"

        return f"train {side('train')}; test {side('test')}"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
