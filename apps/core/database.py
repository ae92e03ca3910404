"""The database going away and coming back: the errors that say so, waiting for it, and asking what it committed."""

import time

from django.db import InterfaceError, OperationalError, connection
from django.db.models import Model

# The database is down or restarting (refused, dropped, timed out): retry later, not a bug in a query.
DATABASE_DOWN_ERRORS = (OperationalError, InterfaceError)


def database_wait(*, timeout_s: float, interval_s: float = 0.5) -> bool:
    """Drop this thread's broken connection and open a new one, trying until timeout_s; True once one opens."""
    deadline = time.monotonic() + timeout_s
    while True:
        connection.close()
        try:
            connection.ensure_connection()
            return True
        except DATABASE_DOWN_ERRORS:
            if time.monotonic() >= deadline:
                connection.close()
                return False
            time.sleep(interval_s)


def committed_after_all(model: type[Model], pk: int, *, wait_s: float = 10) -> bool:
    """Whether a commit whose answer was lost went through: the row is looked for once the database is back.

    Only an outermost transaction's commit can be in question: inside a caller's transaction nothing was
    committed. False when the database stays away for wait_s, as nothing can be known then.
    """
    if connection.in_atomic_block or not database_wait(timeout_s=wait_s):
        return False
    try:
        return model.objects.filter(pk=pk).exists()
    except DATABASE_DOWN_ERRORS:
        return False
