"""Admin for dataset versions, with a stats page for each.

Versions are made by `manage.py export_dataset` and are frozen: the admin lists them and shows
each one's counts, what was filtered out and why, the split and the files, and changes nothing.
"""

from pathlib import Path

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made by export_dataset

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
