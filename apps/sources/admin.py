from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from apps.sources import services
from apps.sources.models import Author, CrawlRun, Source
from lib.errors import TwinsiteError
from lib.redaction import url_redact


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "alias_list", "access", "source_count"]
    list_filter = ["access"]
    search_fields = ["name", "aliases", "bio"]
    filter_horizontal = ["readers", "reader_groups"]
    fieldsets = [
        (None, {"fields": ["name", "aliases", "bio", "handles"]}),
        (
            "Who may talk to this twin",
            {
                "fields": ["access", "readers", "reader_groups"],
                "description": "Staff always may. A restricted author's twin, writing and conversations are "
                "invisible to everyone else: to them the author does not exist.",
            },
        ),
    ]

    @admin.display(description="Aliases")
    def alias_list(self, obj: Author) -> str:
        return ", ".join(obj.aliases)

    @admin.display(description="Sources")
    def source_count(self, obj: Author) -> int:
        return obj.sources.count()


class CrawlRunInline(admin.TabularInline):
    model = CrawlRun
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-created_at"]
    fields = [
        "status",
        "progress",
        "started_at",
        "finished_at",
        "pages_fetched",
        "documents_new",
        "documents_changed",
        "documents_unchanged",
        "pages_failed",
        "pages_skipped",
        "pages_not_modified",
    ]
    readonly_fields = fields

    @admin.display(description="Progress")
    def progress(self, obj: CrawlRun) -> str:
        return crawl_progress(obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def crawl_progress(run: CrawlRun) -> str:
    done = run.progress_done or run.pages_fetched + run.pages_failed
    return f"{done}/{run.progress_total}" if run.progress_total else str(done)


class SourceForm(forms.ModelForm):
    # Never rendered back: the stored credentials are sealed and only replaced or cleared here.
    new_credentials = forms.CharField(
        required=False,
        label="Credentials",
        widget=forms.PasswordInput(render_value=False),
        help_text='"user:token" for a private git repository or MongoDB; empty keeps the stored ones. '
        "Credentials written into the URL are moved here too.",
    )
    clear_credentials = forms.BooleanField(required=False, help_text="Forget the stored credentials.")

    class Meta:
        model = Source
        fields = ["author", "kind", "url", "new_credentials", "clear_credentials", "options", "active", "schedule"]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("url") and data.get("kind"):
            try:
                services.source_check_location(kind=data["kind"], url=data["url"])
            except TwinsiteError as exc:
                self.add_error("url", url_redact(str(exc)))
        if data.get("new_credentials") and data.get("kind") not in services.CREDENTIAL_KINDS:
            self.add_error("new_credentials", "Only git repositories and MongoDB warehouses take credentials.")
        return data

    def credentials(self) -> str | None:
        """What source_save should store: new ones, "" to clear, None to keep."""
        if self.cleaned_data.get("new_credentials"):
            return self.cleaned_data["new_credentials"]
        return "" if self.cleaned_data.get("clear_credentials") else None


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = [
        "url",
        "kind",
        "author",
        "has_credentials",
        "active",
        "schedule",
        "last_crawl_status",
        "last_crawled_at",
    ]
    list_filter = ["kind", "active", "last_crawl_status", "author"]
    search_fields = ["url", "author__name"]
    readonly_fields = ["last_crawl_status", "last_crawled_at", "created_at"]
    autocomplete_fields = ["author"]
    inlines = [CrawlRunInline]
    actions = ["crawl_now"]

    def save_model(self, request: HttpRequest, obj: Source, form, change: bool) -> None:
        # Through the service, so the beat schedule follows every edit (the form validated already).
        services.source_save(source=obj, credentials=form.credentials())

    def delete_model(self, request: HttpRequest, obj: Source) -> None:
        services.source_delete(source=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        for source in queryset:
            services.source_delete(source=source)

    @admin.display(boolean=True, description="Credentials")
    def has_credentials(self, obj: Source) -> bool:
        return obj.has_credentials

    @admin.action(description="Crawl now", permissions=["change"])
    def crawl_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        runs = [services.crawl_run_enqueue(source=source) for source in queryset]
        self.message_user(
            request, f"Queued {len(runs)} crawl(s); their progress shows below each source.", messages.SUCCESS
        )


@admin.register(CrawlRun)
class CrawlRunAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "status", "progress", "started_at", "finished_at", "documents_new", "pages_failed"]
    list_filter = ["status", "source__kind", "source__author"]
    readonly_fields = [
        *(field.name for field in CrawlRun._meta.fields if field.name not in ("errors", "skipped")),
        "error_list",
        "skipped_list",
    ]

    @admin.display(description="Errors")
    def error_list(self, obj: CrawlRun) -> str:
        if not obj.errors:
            return "None"
        rows = format_html_join(
            "", "<li><code>{}</code>: {}</li>", ((url_redact(e["url"]), url_redact(e["error"])) for e in obj.errors)
        )
        return format_html("<ul>{}</ul>", rows)

    @admin.display(description="Skipped, and why")
    def skipped_list(self, obj: CrawlRun) -> str:
        if not obj.skipped:
            return "None"
        rows = format_html_join("", "<li><code>{}</code>: {}</li>", ((s["url"], s["reason"]) for s in obj.skipped))
        return format_html("<ul>{}</ul>", rows)

    @admin.display(description="Progress")
    def progress(self, obj: CrawlRun) -> str:
        return crawl_progress(obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
