"""`manage.py` in a process of its own, on the test database: for faults a test cannot inflict on itself."""

import os
import resource
import subprocess
import sys

from django.db import connection

from tests.asgi import ROOT


def manage(*args: str, file_size_limit: int | None = None, timeout_s: float = 120, **settings: str):
    """Run a management command with the test settings (plus ``settings`` as environment); the CompletedProcess.

    file_size_limit: RLIMIT_FSIZE in bytes. The kernel then refuses any write that would make a file larger
    (EFBIG, "File too large"), as a full disk refuses one (ENOSPC): the failure is the operating system's.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TWINSITE_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
        "PYTHONDONTWRITEBYTECODE": "1",  # the limit is for the command's own files
        **settings,
    }

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        preexec_fn=limit if file_size_limit is not None else None,
    )
