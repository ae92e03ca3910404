"""Admin for dataset versions, with a stats page for each.

Versions are made by `manage.py export_dataset` and are frozen: the admin lists them and shows
each one's counts, what was filtered out and why, the split and the files, and changes nothing.
"""

from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.sources.models import Author
from apps.trainsets.export.services import ExportError, dataset_version_export
from apps.trainsets.export.writer import HF_DIR, MANIFEST
from apps.trainsets.models import DatasetVersion


def _table(rows: list[tuple]) -> str:
    if not rows:
        return "—"
    body = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
    return format_html('<table class="dataset-stats">{}</table>', body)


def _size(path: Path) -> str:
    if not path.exists():
        return "missing"
    size = path.stat().st_size if path.is_file() else sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


class DatasetVersionExportForm(forms.Form):
    """What `export_dataset` asks (but the Hub push, which stays on the command line)."""

    kind = forms.ChoiceField(choices=DatasetVersion.Kind.choices)
    author = forms.ModelChoiceField(queryset=Author.objects.all(), required=False, empty_label="Every author")
    test_fraction = forms.FloatField(min_value=0.0, max_value=0.9, initial=0.1)
    seed = forms.IntegerField(min_value=0, initial=0)


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "author", "train_size", "test_size", "hub_repo", "created_at"]
    list_filter = ["kind", "author"]
    search_fields = ["path", "hub_repo"]
    ordering = ["-created_at"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "number", "author", "created_by", "created_at", "hub_repo"]}),
        ("Split", {"fields": ["test_fraction", "seed", "split_table"]}),
        ("Statistics", {"fields": ["counts_table", "filter_table"]}),
        ("On disk", {"fields": ["path", "files_table"]}),
    ]
    readonly_fields = [
        "name",
        "kind",
        "number",
        "author",
        "created_by",
        "created_at",
        "hub_repo",
        "test_fraction",
        "seed",
        "split_table",
        "counts_table",
        "filter_table",
        "path",
        "files_table",
    ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        """ "Add" freezes a new version now, as export_dataset does; an empty selection is a form error."""
        if not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)  # Django's own 403
        form = DatasetVersionExportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                version = dataset_version_export(**form.cleaned_data, user=request.user)
            except ExportError as exc:
                form.add_error(None, str(exc))
            else:
                counts = version.counts
                messages.success(
                    request, f"Froze {version.name}: {counts.get('train', 0)} train, {counts.get('test', 0)} test."
                )
                return redirect(reverse("admin:trainsets_datasetversion_change", args=[version.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Freeze a dataset version",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/trainsets/datasetversion/export.html", context)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # frozen: the change page is a read-only stats page

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # training runs refer to versions; the files would outlive the row

    @admin.display(description="Train")
    def train_size(self, obj: DatasetVersion) -> int | None:
        return obj.counts.get("train")

    @admin.display(description="Test")
    def test_size(self, obj: DatasetVersion) -> int | None:
        return obj.counts.get("test")

    @admin.display(description="Split sizes")
    def split_table(self, obj: DatasetVersion) -> str:
        rows = []
        for side in ("train", "test"):
            text = f"{obj.counts.get(side, 0)} items from {obj.counts.get(f'documents_{side}', 0)} documents"
            if obj.counts.get(f"conversations_{side}"):
                text += f" and {obj.counts[f'conversations_{side}']} conversations"
            rows.append((side, text))
        return _table(rows)

    @admin.display(description="Counts")
    def counts_table(self, obj: DatasetVersion) -> str:
        return _table(sorted(obj.counts.items()))

    @admin.display(description="Left out (why)")
    def filter_table(self, obj: DatasetVersion) -> str:
        return _table(list(obj.filter_stats.items()))

    @admin.display(description="Files")
    def files_table(self, obj: DatasetVersion) -> str:
        root = Path(obj.path)
        names = [*obj.files.values(), MANIFEST, f"{HF_DIR}/"]
        return _table([(name, _size(root / name)) for name in names])
