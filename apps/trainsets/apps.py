from django.apps import AppConfig


class TrainsetsConfig(AppConfig):
    name = "apps.trainsets"
    label = "trainsets"
    verbose_name = "Training data"
