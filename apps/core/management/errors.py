"""Domain errors phrased for the command line: a field the command has a flag for becomes that flag."""

from collections.abc import Iterable

from django.core.management.base import CommandError

from lib.errors import TwinsiteError


def command_error(exc: TwinsiteError, *, flags: Iterable[str] = ()) -> CommandError:
    """A CommandError saying the error, after its flag when the command has one for the error's field.

    flags: the fields this command takes as options, spelled --field-name (max_samples is --max-samples).
    An error about a field the command has no flag for (a step inside build_twin) is said as it is.
    """
    field = getattr(exc, "field", "")
    if field and field in set(flags):
        return CommandError(f"--{field.replace('_', '-')}: {exc}")
    return CommandError(str(exc))
