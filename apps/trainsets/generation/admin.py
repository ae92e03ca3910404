"""Admin for generation runs, instruction samples and preference pairs."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.trainsets.generation.options import GenerationOptions
from apps.trainsets.generation.services import generation_run_enqueue
from apps.trainsets.models import GenerationRun, InstructionSample, PreferencePair
from lib.errors import TwinsiteError


def progress_text(run: GenerationRun) -> str:
    if not run.extracts_total:
        return "100%" if run.status == GenerationRun.Status.SUCCEEDED else "—"
    return f"{run.progress:.0%} ({run.extracts_done}/{run.extracts_total})"


class GenerationRunStartForm(forms.ModelForm):
    """What `generate_datasets` asks, as a form: the run is queued on the llm workers."""

    mode = forms.ChoiceField(choices=InstructionSample.Mode.choices, initial=InstructionSample.Mode.OWN_TEXT)
    limit = forms.IntegerField(
        min_value=1, required=False, help_text="Extracts to work on; empty: every extract that still needs work."
    )
    pairs = forms.BooleanField(
        required=False, initial=True, help_text="Also make preference pairs (and pairs from edited chat feedback)."
    )

    class Meta:
        model = GenerationRun
        fields = ["author"]
        help_texts = {"author": "Empty: every author."}

    def clean(self) -> dict:
        data = super().clean()
        try:
            self.options = GenerationOptions(mode=data.get("mode"), limit=data.get("limit"), pairs=data.get("pairs"))
        except TwinsiteError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


@admin.register(GenerationRun)
class GenerationRunAdmin(admin.ModelAdmin):
    """Runs are started here ("Add") or by `generate_datasets`, then watched, never edited."""

    list_display = [
        "id",
        "author",
        "mode",
        "status",
        "progress",
        "samples_created",
        "pairs_created",
        "dropped_total",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "author"]
    readonly_fields = [
        "author",
        "status",
        "progress",
        "options",
        "extracts_total",
        "extracts_done",
        "samples_created",
        "pairs_created",
        "dropped_reasons",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    ]
    fields = readonly_fields

    @admin.display(description="Mode")
    def mode(self, obj: GenerationRun) -> str:
        return obj.options.get("mode", "")

    @admin.display(description="Progress")
    def progress(self, obj: GenerationRun) -> str:
        return progress_text(obj)

    @admin.display(description="Dropped")
    def dropped_total(self, obj: GenerationRun) -> int:
        return sum(obj.dropped.values())

    @admin.display(description="Dropped, by reason")
    def dropped_reasons(self, obj: GenerationRun) -> str:
        if not obj.dropped:
            return "None"
        rows = sorted(obj.dropped.items(), key=lambda item: (-item[1], item[0]))
        return format_html("<ul>{}</ul>", format_html_join("", "<li><code>{}</code>: {}</li>", rows))

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        if obj is None:
            return GenerationRunStartForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return ["author", "mode", "limit", "pairs"] if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [] if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: GenerationRun, form, change: bool) -> None:
        run = generation_run_enqueue(author=form.cleaned_data.get("author"), options=form.options)
        obj.pk, obj.status = run.pk, run.status

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(InstructionSample)
class InstructionSampleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "author", "mode", "review", "filter_reason", "document", "created_at"]
    list_filter = ["review", "mode", "author", "filter_reason"]
    search_fields = ["instruction", "answer", "document__title", "document__url"]
    list_select_related = ["author", "document"]
    # Provenance is what the sample was made from and by: it stays as generation recorded it.
    readonly_fields = [
        "review_link",
        "author",
        "document",
        "chunk_list",
        "generation_run",
        "mode",
        "extract",
        "extract_hash",
        "ordinal",
        "model",
        "original_answer",
        "reviewed_by",
        "reviewed_at",
        "created_at",
    ]
    fields = ["instruction", "answer", "review", "filter_reason", *readonly_fields]

    @admin.display(description="Chunks")
    def chunk_list(self, obj: InstructionSample) -> str:
        return ", ".join(f"#{chunk.ordinal} (id {chunk.pk})" for chunk in obj.chunks.order_by("ordinal")) or "None"

    @admin.display(description="Review")
    def review_link(self, obj: InstructionSample) -> str:
        url = reverse("labeling-samples") + f"?review={obj.review}"
        return format_html('<a href="{}">Approve, edit or reject on the labeling screen</a>', url)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # reviews go through the labeling screens, which record who reviewed and keep the original

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PreferencePair)
class PreferencePairAdmin(admin.ModelAdmin):
    list_display = ["__str__", "author", "origin", "review", "filter_reason", "rejected_model", "created_at"]
    list_filter = ["review", "origin", "author", "rejected_model"]
    search_fields = ["prompt", "chosen", "rejected"]
    list_select_related = ["author"]
    readonly_fields = [
        "author",
        "origin",
        "document",
        "sample",
        "feedback",
        "generation_run",
        "rejected_model",
        "label_count",
        "created_at",
    ]
    fields = ["prompt", "chosen", "rejected", "review", "filter_reason", *readonly_fields]

    @admin.display(description="Labels")
    def label_count(self, obj: PreferencePair) -> int:
        return obj.labels.count()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
