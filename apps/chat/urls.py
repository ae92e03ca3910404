from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.chat import apis
from apps.sources import apis as source_apis

urlpatterns = [
    path("v1/chat", apis.ChatApi.as_view(), name="api-chat"),
    path("v1/conversations", apis.ConversationListApi.as_view(), name="api-conversations"),
    path("v1/conversations/<uuid:conversation_id>", apis.ConversationDetailApi.as_view(), name="api-conversation"),
    path("v1/search", apis.SearchApi.as_view(), name="api-search"),
    path("v1/messages/<int:message_id>/feedback", apis.FeedbackApi.as_view(), name="api-feedback"),
    path("v1/authors", source_apis.AuthorListApi.as_view(), name="api-authors"),
    path("v1/sources", source_apis.SourceListApi.as_view(), name="api-sources"),
    path("v1/sources/<int:source_id>/crawl", source_apis.SourceCrawlApi.as_view(), name="api-source-crawl"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
