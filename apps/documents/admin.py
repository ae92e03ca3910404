from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from apps.documents import services
from apps.documents.models import Chunk, Document
from lib.errors import TwinsiteError


class GoneFilter(admin.SimpleListFilter):
    title = "upstream"
    parameter_name = "gone"

    def lookups(self, request, model_admin):
        return [("no", "Still online"), ("yes", "Gone upstream")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(gone_at__isnull=self.value() == "no")
        return queryset


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "author", "source_kind", "published_at", "curation_state", "status", "chunk_count"]
    list_filter = ["curation_state", "author", "source__kind", "source", "status", GoneFilter, "language"]
    search_fields = ["title", "url", "clean_text"]
    date_hierarchy = "published_at"
    list_select_related = ["author", "source"]
    readonly_fields = [
        "source",
        "author",
        "url",
        "content_hash",
        "raw_content",
        "created_at",
        "updated_at",
        "chunks_link",
    ]
    actions = ["include_documents", "exclude_documents"]

    @admin.display(description="Kind", ordering="source__kind")
    def source_kind(self, obj: Document) -> str:
        return obj.source.get_kind_display()

    @admin.display(description="Chunks")
    def chunk_count(self, obj: Document) -> int:
        return obj.chunks.count()

    @admin.display(description="Chunks")
    def chunks_link(self, obj: Document) -> str:
        url = reverse("admin:documents_chunk_changelist") + f"?document__id__exact={obj.pk}"
        return format_html('<a href="{}">{} chunks</a>', url, obj.chunks.count())

    @admin.action(description="Include selected documents", permissions=["change"])
    def include_documents(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        count = services.documents_curate(documents=queryset, state=Document.Curation.INCLUDED)
        self.message_user(request, f"{count} document(s) included.", messages.SUCCESS)

    @admin.action(description="Exclude selected documents…", permissions=["change"])
    def exclude_documents(self, request: HttpRequest, queryset: QuerySet[Document]) -> HttpResponse | None:
        # Asks for the reason on an intermediate page, as delete does.
        if "apply" in request.POST:
            try:
                count = services.documents_curate(
                    documents=queryset, state=Document.Curation.EXCLUDED, reason=request.POST.get("reason", "")
                )
            except TwinsiteError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(request, f"{count} document(s) excluded.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Exclude documents",
            "documents": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/documents/exclude_confirmation.html", context)

    @admin.action(description="Re-process selected documents (chunk and embed again)", permissions=["change"])
    def reprocess_documents(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        ids = services.documents_reprocess(documents=queryset)
        self.message_user(request, f"Queued {len(ids)} document(s) for processing.", messages.SUCCESS)


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "document_link", "ordinal", "token_count", "embedding_model"]
    list_filter = ["embedding_model", "document__author"]
    search_fields = ["text", "document__title"]
    list_select_related = ["document"]
    fields = ["document_link", "ordinal", "text", "token_count", "content_hash", "embedding_model", "created_at"]
    readonly_fields = fields

    @admin.display(description="Document")
    def document_link(self, obj: Chunk) -> str:
        url = reverse("admin:documents_document_change", args=[obj.document_id])
        return format_html('<a href="{}">{}</a>', url, obj.document)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
