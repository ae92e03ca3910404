"""The shared end of the training commands: run, print the result as JSON, turn known errors into one line."""

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from lib.errors import TwinsiteError


def cli_run(run: Callable[[list[str] | None], Any], argv: list[str] | None) -> int:
    try:
        result = run(argv)
    except (TwinsiteError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = {key: value for key, value in asdict(result).items() if key != "loss_curve"}
    # One line, last: the progress lines above it are for people, this one is for scripts.
    print(json.dumps(summary, default=str))
    return 0
