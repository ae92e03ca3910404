"""Mounted at /v1/ by twinsite/urls.py, so that ``base_url="<host>/v1"`` works in OpenAI SDKs."""

from django.urls import path

from apps.chat.completions import apis

urlpatterns = [
    path("models", apis.ModelListApi.as_view(), name="openai-models"),
    path("chat/completions", apis.ChatCompletionApi.as_view(), name="openai-chat-completions"),
]
