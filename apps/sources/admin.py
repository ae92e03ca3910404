from django.contrib import admin

from apps.sources.models import Author, CrawlRun, Source


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "alias_list", "source_count"]
    search_fields = ["name", "aliases", "bio"]

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
        "started_at",
        "finished_at",
        "pages_fetched",
        "documents_new",
        "documents_changed",
        "documents_unchanged",
        "pages_failed",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["url", "kind", "author", "active", "schedule", "last_crawl_status", "last_crawled_at"]
    list_filter = ["kind", "active", "last_crawl_status", "author"]
    search_fields = ["url", "author__name"]
    readonly_fields = ["last_crawl_status", "last_crawled_at", "created_at"]
    autocomplete_fields = ["author"]
    inlines = [CrawlRunInline]


@admin.register(CrawlRun)
class CrawlRunAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "status", "started_at", "finished_at", "documents_new", "pages_failed"]
    list_filter = ["status", "source__kind", "source__author"]
    readonly_fields = [field.name for field in CrawlRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
