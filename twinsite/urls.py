from django.contrib import admin
from django.urls import include, path
from django.views import defaults

from apps.chat.completions.errors import openai_not_found, openai_server_error
from apps.chat.errors import json_not_found, json_server_error
from apps.core.views import healthz

admin.site.site_header = "Twinsite"
admin.site.site_title = "Twinsite admin"
admin.site.index_title = "Curation"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("apps.monitoring.urls")),  # before the admin: its dashboard is /admin/monitoring/
    path("admin/", admin.site.urls),
    path("api/", include("apps.chat.urls")),
    path("v1/", include("apps.chat.completions.urls")),  # OpenAI-compatible: base_url="<host>/v1"
    path("playground/", include("apps.chat.page_urls")),
    path("chat/", include("apps.chat.chat_urls")),
    path("label/", include("apps.trainsets.labeling.urls")),
]


def handler404(request, exception):
    """API paths answer in their API's error shape; pages get Django's page."""
    if request.path.startswith("/v1/"):
        return openai_not_found(request)
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/v1/"):
        return openai_server_error(request)
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return defaults.server_error(request)
