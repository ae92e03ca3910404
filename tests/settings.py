"""Test settings: the real settings module, on a throw-away DATA_DIR.

pytest-django imports settings before any conftest runs, so the data dir is
chosen here. Subprocesses started by tests (workers, `manage.py`) inherit it
through the environment. tests/conftest.py stops its servers and deletes it.
"""

import os
import tempfile

if not os.environ.get("DATA_DIR"):
    # Short, under /tmp: PostgreSQL's socket lives in the data dir and its path is length-limited.
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="twt-", dir="/tmp")
    os.environ["TWINSITE_TEST_OWNS_DATA_DIR"] = os.environ["DATA_DIR"]

from twinsite.env import embedded_start  # noqa: E402

embedded_start()  # the test setup starts the embedded servers the settings point at
from twinsite.settings import *  # noqa: E402,F403

# A Celery worker started by a test must use the test database pytest-django created.
if os.environ.get("TWINSITE_TEST_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["TWINSITE_TEST_DATABASE_NAME"]  # noqa: F405
# Local exports and repositories that tests crawl live under the system temp dir.
IMPORT_ROOTS = [Path(tempfile.gettempdir()).resolve()]  # noqa: F405

# Pages render without running collectstatic first (the manifest only exists after it).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
