"""Labeling screens, mounted at /label/ by twinsite/urls.py."""

from django.urls import path

from apps.trainsets.labeling import views

urlpatterns = [
    path("", views.labeling_home, name="labeling-home"),
    path("pairs/next/", views.preference_pair_next, name="labeling-next"),
    path("pairs/<int:pair_id>/", views.preference_pair_label, name="labeling-pair"),
    path("stats/", views.labeling_stats, name="labeling-stats"),
    path("samples/", views.instruction_sample_list, name="labeling-samples"),
    path("samples/<int:sample_id>/review/", views.instruction_sample_review, name="labeling-sample-review"),
]
