"""Traces in the admin, read-only: a request with the timing of each graph node it went through."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from apps.monitoring.models import Notice, Span, Trace
from apps.monitoring.notices import notice_mute


class ReadOnlyAdminMixin:
    """Traces are a record of what happened: viewable, never added, edited or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class SpanInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Span
    extra = 0
    ordering = ["ordinal"]
    fields = [
        "ordinal",
        "node",
        "duration_ms",
        "share",
        "input_size",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "chunk_ids",
        "scores",
        "details",
    ]
    readonly_fields = fields

    @admin.display(description="Share of request")
    def share(self, obj: Span) -> str:
        total = obj.trace.total_ms
        return f"{obj.duration_ms / total:.0%}" if total else "–"


@admin.register(Trace)
class TraceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "status", "total_ms", "model", "tokens", "question_start"]
    list_filter = ["kind", "status", "model"]
    search_fields = ["question", "answer", "error"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [SpanInline]
    fields = [
        "id",
        "created_at",
        "kind",
        "status",
        "total_ms",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "question",
        "queries",
        "filters",
        "answer",
        "error",
    ]
    readonly_fields = fields

    @admin.display(description="Question")
    def question_start(self, obj: Trace) -> str:
        return obj.question[:80]

    @admin.display(description="Tokens (prompt / completion)")
    def tokens(self, obj: Trace) -> str:
        if obj.prompt_tokens is None and obj.completion_tokens is None:
            return "–"
        return f"{obj.prompt_tokens or 0} / {obj.completion_tokens or 0}"


@admin.register(Span)
class SpanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Spans across requests: filter by node, sort by duration to find where time goes."""

    list_display = ["node", "duration_ms", "model", "input_size", "trace_link"]
    list_filter = ["node", "model"]
    list_select_related = ["trace"]
    ordering = ["-trace__created_at", "ordinal"]
    fields = [
        "trace",
        "ordinal",
        "node",
        "duration_ms",
        "input_size",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "chunk_ids",
        "scores",
        "details",
    ]
    readonly_fields = fields

    @admin.display(description="Request")
    def trace_link(self, obj: Span) -> str:
        url = reverse("admin:monitoring_trace_change", args=[obj.trace_id])
        return format_html('<a href="{}">{}</a>', url, obj.trace)


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """Notices are raised and resolved by the operations check; staff can only mute or unmute them."""

    list_display = ["kind", "subject", "message", "first_seen_at", "raised_at", "resolved_at", "muted"]
    list_filter = ["kind", "muted", ("resolved_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["kind", "subject", "message", "first_seen_at", "raised_at", "resolved_at", "emailed_at"]
    fields = [*readonly_fields, "muted"]
    actions = ["mute", "unmute"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Mute: no banner, no email", permissions=["change"])
    def mute(self, request: HttpRequest, queryset) -> None:
        for notice in queryset:
            notice_mute(notice=notice)

    @admin.action(description="Unmute", permissions=["change"])
    def unmute(self, request: HttpRequest, queryset) -> None:
        for notice in queryset:
            notice_mute(notice=notice, muted=False)
