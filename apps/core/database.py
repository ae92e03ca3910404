"""The database going away and coming back: the errors that say so, and waiting for it to answer again."""

import time

from django.db import InterfaceError, OperationalError, connection

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
