#!/usr/bin/env python
"""Django's command-line utility, with start-up failures reported as one clear line."""

import os
import sys


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twinsite.settings")
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    from apps.core.preflight import describe_database_error
    from lib.errors import ConfigurationError
    from twinsite.env import embedded_start

    try:
        embedded_start()  # before the settings are read: they point at these servers
        execute_from_command_line(sys.argv)
    except ConfigurationError as exc:
        print(f"twinsite: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        print(f"twinsite: {describe_database_error(exc)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
