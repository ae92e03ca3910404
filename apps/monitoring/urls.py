from django.contrib import admin
from django.urls import path

from apps.monitoring import views

urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
    # The admin's own page for this app (linked from the admin index) becomes the dashboard: it is
    # included before admin.site.urls, and admin_view makes it staff-only with the admin's session and CSRF.
    path("admin/monitoring/", admin.site.admin_view(views.monitoring_dashboard), name="monitoring_dashboard"),
]
