"""Server-rendered chat pages, mounted at /playground/ by twinsite/urls.py."""

from django.urls import path

from apps.chat import views

urlpatterns = [
    path("", views.playground, name="playground"),
    path("traces/<uuid:trace_id>", views.playground_trace, name="playground-trace"),
]
