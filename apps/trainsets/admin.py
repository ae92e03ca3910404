"""The training-data admin lives beside the code it shows; Django only looks for this module."""

from apps.trainsets.export import admin as export_admin  # noqa: F401
from apps.trainsets.generation import admin as generation_admin  # noqa: F401
