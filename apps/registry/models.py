"""Training runs, the model versions they produce, and their evaluations.

A TrainingRun that succeeds registers one ModelVersion (a LoRA adapter or a
standalone model directory under MODELS_DIR); an EvalRun measures a version
against a baseline and copies the twin's metrics onto it; promotion makes one
version the production model of its author (or of "all" authors) that serving reads.
"""

from django.db import models

from apps.sources.models import Author
from apps.trainsets.models import DatasetVersion


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED)

# The evaluation metrics, as shown; the arrow says which way is better.
METRIC_LABELS = (
    ("perplexity", "Perplexity ↓"),
    ("style_similarity", "Style similarity ↑"),
    ("function_word_distance", "Function-word distance ↓"),
    ("overlap_rouge_l", "ROUGE-L ↑"),
    ("judge_accuracy", "Judge accuracy ↑"),
    ("judge_style", "Judge style ↑"),
)


class TrainingRun(models.Model):
    """One SFT or DPO fine-tuning job: what it started from, what it saw, and how its loss went."""

    class Stage(models.TextChoices):
        SFT = "sft", "Supervised fine-tuning"
        DPO = "dpo", "Direct preference optimisation"

    stage = models.CharField(max_length=3, choices=Stage.choices)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    author = models.ForeignKey(
        Author,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="training_runs",
        help_text="Whose twin this trains; empty: all authors.",
    )
    # The options asked for (YAML file and flags), then the effective config training reported.
    config = models.JSONField(default=dict, blank=True)
    dataset_versions = models.ManyToManyField(DatasetVersion, related_name="training_runs")
    base_model = models.CharField(
        max_length=1000, blank=True, help_text="Path or hub id training starts from; empty: packaged SmolLM2."
    )
    parent = models.ForeignKey(
        "ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="child_runs",
        help_text="The registered version training starts from, if it is one.",
    )
    logs = models.TextField(blank=True)
    loss_curve = models.JSONField(default=list, blank=True, help_text='[{"step": 1, "loss": 2.3, "epoch": 0.1}, ...]')
    progress_step = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.stage.upper()} run #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class ModelVersion(models.Model):
    """A trained LoRA adapter or standalone model directory, whose twin it is, where it came from, how it measured."""

    class Stage(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        PRODUCTION = "production", "Production"
        ARCHIVED = "archived", "Archived"

    class Kind(models.TextChoices):
        ADAPTER = "adapter", "LoRA adapter (served on its base model)"
        MERGED = "merged", "Merged weights (a standalone model)"

    name = models.CharField(max_length=100, unique=True, help_text='e.g. "sft-v2", "dpo-v1".')
    path = models.CharField(
        max_length=1000,
        help_text="The directory: adapter_config.json + adapter safetensors, or config + safetensors; tokenizer.",
    )
    author = models.ForeignKey(
        Author,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="model_versions",
        help_text="Whose twin this is; empty: all authors. Stages and promotion are per author.",
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MERGED)
    base_model = models.CharField(
        max_length=1000, blank=True, help_text="The model it was trained from (an adapter is served on it)."
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    dataset_versions = models.ManyToManyField(DatasetVersion, blank=True, related_name="model_versions")
    training_run = models.OneToOneField(
        TrainingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_version"
    )
    # {"training": {"first_loss", "final_loss", "steps", "runtime_s"},
    #  "evaluation": {"eval_run", "dataset", "samples", "baseline", "twin": METRICS, "base": METRICS}}
    metrics = models.JSONField(default=dict, blank=True)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.CANDIDATE)
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Serving reads one production version per author (and one for all): the database refuses a second.
            models.UniqueConstraint(
                fields=["author"],
                condition=models.Q(stage="production"),
                nulls_distinct=False,
                name="model_version_one_production_per_author",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def author_label(self) -> str:
        return self.author.name if self.author_id else "all authors"

    @property
    def evaluation(self) -> dict | None:
        return self.metrics.get("evaluation") or None


class EvalRun(models.Model):
    """One evaluation of a model version on an instruct dataset's test split, against a baseline model."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="eval_runs")
    baseline = models.CharField(
        max_length=1000, blank=True, help_text="The model compared against; empty: packaged SmolLM2."
    )
    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="eval_runs")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    options = models.JSONField(default=dict, blank=True, help_text="Judge, sample count, tokens.")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    report_path = models.CharField(max_length=1000, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Evaluation #{self.pk} of {self.model_version} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED
