import os
import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest

from apps.core import embedded
from tests.sources.webserver import serve_directory


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
def annotator(django_user_model, settings):
    """A staff user in the annotators group, with no other permission."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="annotator", password="pw-annotator-1", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=settings.ANNOTATORS_GROUP)[0])
    return user


@pytest.fixture
def outsider(django_user_model):
    """A signed-up user who is not staff."""
    return django_user_model.objects.create_user(username="outsider", password="pw-outsider-1")


@pytest.fixture
def serve_dir():
    """Serve folders over real HTTP on 127.0.0.1 while the test runs: folder -> base URL."""
    with ExitStack() as stack:
        yield lambda folder: stack.enter_context(serve_directory(folder)).base_url


@pytest.fixture
def crawl_settings(settings):
    """Let the crawler reach 127.0.0.1 (the test sites) without pausing between requests."""
    settings.CRAWLER_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CRAWLER_HOST_INTERVAL_S = 0
    return settings
