"""Splitting a fenced code block too long for one chunk: at definitions, then blank lines, then lines."""

import re
from collections.abc import Callable

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Top-level definitions: the natural seams of a source file, tried before blank lines and single lines.
_DEFINITION = re.compile(r"^(?:@\w|(?:export\s+|pub\s+)?(?:async\s+)?(?:def|class|function|fn|func|impl|struct)\b)")


def fitting_slices(word: str, fits: Callable[[str], bool]) -> list[str]:
    """The longest slices of word that fit, in order (binary search on each slice's end)."""
    slices, start = [], 0
    while start < len(word):
        low, high = start + 1, len(word)
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if fits(word[start:middle]) else (low, middle - 1)
        slices.append(word[start:low])
        start = low
    return slices or [word]


def split_code(text: str, closed: bool, fits: Callable[[str], bool]) -> list[str]:
    """Split a fenced code block at definitions, then blank lines, then lines, re-fencing every piece.

    ``closed`` is False when the block's closing fence is missing; every piece gets one.
    """
    lines = text.split("\n")
    opening = lines[0]
    closing = lines[-1] if closed else _FENCE.match(opening).group(1)
    body = lines[1:-1] if closed else lines[1:]

    def fenced(piece: list[str]) -> str:
        # Blank lines at a split point are the seam itself: they are not repeated at the piece's edges.
        while piece and not piece[-1].strip():
            piece = piece[:-1]
        while piece and not piece[0].strip():
            piece = piece[1:]
        return "\n".join([opening, *piece, closing])

    pieces = _pack_code(body, lambda piece: fits(fenced(piece)), level=0)
    return [fenced(piece) for piece in pieces if any(line.strip() for line in piece)]


def _pack_code(lines: list[str], fits: Callable[[list[str]], bool], level: int) -> list[list[str]]:
    pieces: list[list[str]] = []
    current: list[str] = []
    for unit in _code_units(lines, level):
        if fits([*current, *unit]):
            current = [*current, *unit]
            continue
        if current:
            pieces.append(current)
        if fits(unit):
            current = unit
            continue
        if level < 2:
            smaller = _pack_code(unit, fits, level + 1)
        else:  # a single line longer than the window: the one case where code is cut inside a line
            smaller = [[piece] for piece in fitting_slices(unit[0], lambda piece: fits([piece]))]
        pieces.extend(smaller[:-1])
        current = smaller[-1]
    if current:
        pieces.append(current)
    return pieces


def _code_units(lines: list[str], level: int) -> list[list[str]]:
    """Level 0: top-level definitions (with their decorators); 1: blank-line-separated blocks; 2: lines."""
    if level == 2:
        return [[line] for line in lines]
    units: list[list[str]] = []
    for index, line in enumerate(lines):
        previous = lines[index - 1] if index else ""
        if level == 0:
            starts = bool(_DEFINITION.match(line)) and not previous.startswith("@")
        else:
            starts = not previous.strip() and bool(line.strip())
        if starts or not units:
            units.append([line])
        else:
            units[-1].append(line)
    return units
