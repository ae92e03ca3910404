import os
import shutil
from pathlib import Path

import pytest

from apps.core import embedded


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the throw-away embedded servers and delete their data dir."""
    owned = os.environ.get("TWINSITE_TEST_OWNS_DATA_DIR")
    if owned and os.environ.get("DATA_DIR") == owned:
        embedded.stop_all(Path(owned))
        shutil.rmtree(owned, ignore_errors=True)


@pytest.fixture
def curator(django_user_model):
    """A staff user with every curation permission."""
    return django_user_model.objects.create_user(
        username="curator", password="pw-curator-1", is_staff=True, is_superuser=True
    )


@pytest.fixture
def outsider(django_user_model):
    """A signed-up user who is not staff."""
    return django_user_model.objects.create_user(username="outsider", password="pw-outsider-1")
