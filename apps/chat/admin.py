from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.chat.keys import api_key_create, api_key_revoke
from apps.chat.models import API_KEY_SCOPES, ApiKey, Conversation, Feedback, Message, api_key_scopes_all


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=list(API_KEY_SCOPES.items()),
        initial=api_key_scopes_all,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may be used for; the staff scope acts only for staff users.",
    )

    class Meta:
        model = ApiKey
        fields = ["user", "name", "scopes", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "scope_list", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    fields = ["user", "name", "scopes", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]
    form = ApiKeyForm

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "user", "name", "scopes", "expires_at"] if obj else self.readonly_fields

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if change:
            return
        created, key = api_key_create(user=obj.user, name=obj.name, scopes=obj.scopes, expires_at=obj.expires_at)
        obj.pk = created.pk
        self.message_user(request, f"The new key is {key} — copy it now: it is shown only this once.", messages.WARNING)

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"{queryset.count()} key(s) revoked.", messages.SUCCESS)


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["role", "content", "trace", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "author_name", "channel", "updated_at"]
    list_filter = ["channel"]
    search_fields = ["title", "user__username", "end_user"]
    readonly_fields = ["user", "title", "author_name", "channel", "end_user", "created_at", "updated_at"]
    inlines = [MessageInline]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["message", "user", "rating", "created_at"]
    list_filter = ["rating"]
    readonly_fields = ["message", "user", "rating", "edited_answer", "comment", "created_at", "updated_at"]
