"""Admin for the registry: runs with live progress and loss charts, versions with metrics, promotion and re-runs."""

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from apps.registry import services
from apps.registry.charts import loss_chart_svg
from apps.registry.models import METRIC_LABELS, EvalRun, ModelVersion, TrainingRun
from apps.registry.selectors import eval_summary
from lib.errors import TwinsiteError


def _value(value) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else "—"


def metrics_table(metrics: dict) -> str:
    """The version's evaluation (twin against baseline) and training figures as one small table."""
    evaluation = metrics.get("evaluation") or {}
    training = metrics.get("training") or {}
    if not evaluation and not training:
        return "Not evaluated"
    html = ""
    if evaluation:
        twin, base = evaluation.get("twin") or {}, evaluation.get("base") or {}
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((label, _value(twin.get(key)), _value(base.get(key))) for key, label in METRIC_LABELS),
        )
        html += format_html(
            '<table class="registry-metrics"><caption>Evaluation #{} on {} ({} samples)</caption>'
            "<tr><th></th><th>this model</th><th>baseline: {}</th></tr>{}</table>",
            evaluation.get("eval_run"),
            evaluation.get("dataset"),
            evaluation.get("samples"),
            evaluation.get("baseline") or "packaged SmolLM2",
            rows,
        )
    if training:
        html += format_html(
            "<p>Training: loss {} → {} over {} steps in {} s</p>",
            _value(training.get("first_loss")),
            _value(training.get("final_loss")),
            training.get("steps"),
            _value(training.get("runtime_s")),
        )
    return mark_safe(html)  # noqa: S308 - every part above was escaped by format_html


def _progress(step: int, total: int) -> str:
    return f"{step}/{total}" if total else str(step)


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "stage",
        "author_label",
        "status",
        "progress",
        "dataset_names",
        "base_model",
        "created_at",
        "finished_at",
    ]
    list_filter = ["stage", "status", "author"]
    list_select_related = ["author"]
    readonly_fields = [
        "stage",
        "author_label",
        "status",
        "progress",
        "dataset_names",
        "base_model",
        "parent",
        "produced",
        "loss_chart",
        "config_json",
        "error",
        "logs",
        "created_at",
        "started_at",
        "finished_at",
    ]
    exclude = ["config", "loss_curve", "dataset_versions", "progress_step", "progress_total", "author"]

    @admin.display(description="Author", ordering="author__name")
    def author_label(self, obj: TrainingRun) -> str:
        return obj.author.name if obj.author_id else "all authors"

    actions = ["rerun"]

    @admin.display(description="Progress")
    def progress(self, obj: TrainingRun) -> str:
        return _progress(obj.progress_step, obj.progress_total)

    @admin.display(description="Datasets")
    def dataset_names(self, obj: TrainingRun) -> str:
        return ", ".join(dataset.name for dataset in obj.dataset_versions.all())

    @admin.display(description="Model version")
    def produced(self, obj: TrainingRun) -> str:
        version = getattr(obj, "model_version", None)
        return version.name if version else "—"

    @admin.display(description="Loss curve")
    def loss_chart(self, obj: TrainingRun) -> str:
        return mark_safe(loss_chart_svg(obj.loss_curve))  # noqa: S308 - the chart escapes its own text

    @admin.display(description="Config")
    def config_json(self, obj: TrainingRun) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.config, indent=2, sort_keys=True))

    @admin.action(description="Re-run on the training queue", permissions=["change"])
    def rerun(self, request: HttpRequest, queryset: QuerySet[TrainingRun]) -> None:
        runs = []
        for run in queryset:
            try:
                runs.append(services.training_run_rerun(run=run))
            except TwinsiteError as exc:  # its stored options no longer pass training's rules
                self.message_user(request, f"Run #{run.pk} was not re-run: {exc}", messages.ERROR)
        if runs:
            ids = ", ".join(f"#{run.pk}" for run in runs)
            self.message_user(request, f"Queued {len(runs)} run(s) on the training queue: {ids}.", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False


class EvalRunInline(admin.TabularInline):
    model = EvalRun
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["status", "dataset_version", "baseline", "created_at", "finished_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "author_label",
        "kind",
        "stage",
        "perplexity",
        "style_similarity",
        "final_loss",
        "created_at",
        "promoted_at",
    ]
    list_filter = ["stage", "kind", "author"]
    list_select_related = ["author"]
    search_fields = ["name", "path", "author__name"]
    readonly_fields = [
        "name",
        "author_label",
        "kind",
        "stage",
        "path",
        "base_model",
        "parent",
        "training_run",
        "dataset_names",
        "metrics_summary",
        "loss_chart",
        "created_at",
        "promoted_at",
    ]
    exclude = ["metrics", "dataset_versions", "author"]
    inlines = [EvalRunInline]
    actions = ["promote"]

    @admin.display(description="Author", ordering="author__name")
    def author_label(self, obj: ModelVersion) -> str:
        return obj.author_label

    def _eval_metric(self, obj: ModelVersion, key: str) -> str:
        return _value(((obj.metrics.get("evaluation") or {}).get("twin") or {}).get(key))

    @admin.display(description="Perplexity ↓")
    def perplexity(self, obj: ModelVersion) -> str:
        return self._eval_metric(obj, "perplexity")

    @admin.display(description="Style similarity ↑")
    def style_similarity(self, obj: ModelVersion) -> str:
        return self._eval_metric(obj, "style_similarity")

    @admin.display(description="Final loss")
    def final_loss(self, obj: ModelVersion) -> str:
        return _value((obj.metrics.get("training") or {}).get("final_loss"))

    @admin.display(description="Datasets")
    def dataset_names(self, obj: ModelVersion) -> str:
        return ", ".join(dataset.name for dataset in obj.dataset_versions.all())

    @admin.display(description="Metrics")
    def metrics_summary(self, obj: ModelVersion) -> str:
        return metrics_table(obj.metrics)

    @admin.display(description="Loss curve")
    def loss_chart(self, obj: ModelVersion) -> str:
        return mark_safe(loss_chart_svg(obj.training_run.loss_curve if obj.training_run else []))  # noqa: S308

    @admin.action(description="Promote to production (through the metrics gate)", permissions=["change"])
    def promote(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to promote.", messages.ERROR)
            return
        try:
            promotion = services.model_version_promote(model_version=queryset.get())
        except TwinsiteError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        previous = f"; {promotion.previous.name} archived" if promotion.previous else ""
        self.message_user(
            request,
            f"{promotion.version.name} is now production for {promotion.version.author_label}{previous}. "
            "Restart TGI to serve it there.",
            messages.SUCCESS,
        )

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(EvalRun)
class EvalRunAdmin(admin.ModelAdmin):
    list_display = ["id", "model_version", "dataset_version", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [
        "model_version",
        "dataset_version",
        "baseline",
        "status",
        "progress",
        "options",
        "summary",
        "report_path",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    ]
    exclude = ["report", "progress_done", "progress_total"]

    @admin.display(description="Progress")
    def progress(self, obj: EvalRun) -> str:
        return _progress(obj.progress_done, obj.progress_total)

    @admin.display(description="Result")
    def summary(self, obj: EvalRun) -> str:
        if not obj.report:
            return "—"
        return metrics_table({"evaluation": eval_summary(obj)})

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
