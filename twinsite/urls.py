from django.contrib import admin
from django.urls import path

from apps.core.views import healthz

admin.site.site_header = "Twinsite"
admin.site.site_title = "Twinsite admin"
admin.site.index_title = "Curation"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
