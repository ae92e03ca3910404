"""Freeze what may be exported into a numbered DatasetVersion: split by group, leakage removed, written atomically.

The files are written into a hidden staging directory next to the target and renamed into place
at the end, inside the transaction that creates the row: a failure anywhere leaves neither a
half-written directory nor a DatasetVersion behind. A full disk or a database that goes away is
an ExportError that says so, like any other export that cannot be made. A database that goes away
at the commit itself may have committed: it is asked again, and the files stay if it had.
"""

import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from apps.core.database import DATABASE_DOWN_ERRORS, committed_after_all
from apps.sources.models import Author
from apps.trainsets.export import writer
from apps.trainsets.export.leakage import prompts_leaked
from apps.trainsets.export.selectors import (
    ExportItem,
    Selection,
    instruct_selection,
    items_by_section,
    preference_selection,
)
from apps.trainsets.export.split import groups_split, split_check
from apps.trainsets.models import DatasetVersion
from lib.errors import TwinsiteError

_HUB_REPO = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
# One PostgreSQL advisory lock serialises the numbering of versions ("twinsets" in ASCII).
_LOCK_KEY = 0x7477696E73657473
_FLAGS = {"instruct": ["auto_accepted"], "preference": ["labeled", "swapped", "edited", "auto_accepted"]}


class ExportError(TwinsiteError):
    """The export cannot be made as asked; nothing was written."""


class ExportInterrupted(ExportError):
    """The disk or the database failed part-way; nothing was kept, and the same export may work later."""


def _outage(exc: BaseException, *, where: Path | str) -> ExportInterrupted:
    """The export stopped on a disk or database failure: the error people see, the cause chained for the logs."""
    if isinstance(exc, OSError):  # a full disk (ENOSPC), a file-size limit (EFBIG), a read-only volume...
        cause = exc.strerror or str(exc)
        return ExportInterrupted(
            f"Writing the dataset in {where} failed: {cause}. Nothing was kept; make room and export again."
        )
    return ExportInterrupted(
        "The database stopped answering during the export; nothing was saved. Export again once it is back."
    )


def _check(*, kind: str, test_fraction: float, seed: int, push_to_hub: str | None) -> None:
    if kind not in DatasetVersion.Kind.values:
        raise ExportError(f"kind must be one of {', '.join(DatasetVersion.Kind.values)}, not {kind!r}.")
    try:
        split_check(test_fraction=test_fraction, seed=seed)
    except TwinsiteError as exc:
        raise ExportError(str(exc)) from None
    if push_to_hub is not None:
        if not settings.HF_TOKEN:
            raise ExportError("push_to_hub needs a Hugging Face token: set HF_TOKEN (or HF_TOKEN_FILE) first.")
        if not _HUB_REPO.match(push_to_hub):
            raise ExportError(f"push_to_hub must be a Hub repository id like 'owner/name', not {push_to_hub!r}.")


def _nothing_left(kind: str, selection: Selection) -> ExportError:
    kept_out = ", ".join(f"{reason} {n}" for reason, n in selection.filter_stats.items() if n) or "none at all"
    hint = "" if settings.TRAINSETS_AUTO_ACCEPT else " Review or label some (or set TRAINSETS_AUTO_ACCEPT)."
    return ExportError(f"Nothing to export: no {kind} item is approved or labeled (left out: {kept_out}).{hint}")


def _nothing_held_out(kind: str, items: list[ExportItem]) -> str:
    documents = {item.document_id for item in items if item.document_id is not None}
    what = f"{len(documents)} document" if len(documents) == 1 else "one conversation"
    return (
        f"Nothing can be held out to evaluate on: all {len(items)} {kind} items come from {what}, "
        "with nothing in it to split (one extract). Add writing from another post or another part of it."
    )


def _counts(kind: str, train: list[ExportItem], test: list[ExportItem], *, by_section: bool) -> dict[str, int]:
    counts = {"total": len(train) + len(test), "train": len(train), "test": len(test)}
    for side, items in (("train", train), ("test", test)):
        counts[f"documents_{side}"] = len({item.document_id for item in items if item.document_id is not None})
        counts[f"groups_{side}"] = len({item.group for item in items})
        if by_section:  # one document, split within: its sections (or extracts) are the groups
            counts[f"sections_{side}"] = counts[f"groups_{side}"]
        if kind == "preference":
            counts[f"conversations_{side}"] = len({i.group for i in items if i.group.startswith("conversation:")})
    for flag in _FLAGS[kind]:
        counts[flag] = sum(flag in item.flags for item in [*train, *test])
    return counts


def dataset_version_export(
    *,
    kind: str,
    output_dir: Path | str | None = None,
    author: Author | None = None,
    test_fraction: float = 0.1,
    seed: int = 0,
    push_to_hub: str | None = None,
    user=None,
    progress: Callable[[str], None] | None = None,
    require_test: bool = False,
) -> DatasetVersion:
    """Export the next version of `kind` to DATASETS_DIR/<kind>-v<N>/ (or output_dir); push it when asked.

    require_test: refuse (writing nothing) when nothing can be held out, as an evaluation needs a test split.
    """
    _check(kind=kind, test_fraction=test_fraction, seed=seed, push_to_hub=push_to_hub)
    try:
        return _export(
            kind=kind,
            output_dir=output_dir,
            author=author,
            test_fraction=test_fraction,
            seed=seed,
            push_to_hub=push_to_hub,
            user=user,
            say=progress or (lambda message: None),
            require_test=require_test,
        )
    except (OSError, *DATABASE_DOWN_ERRORS) as exc:
        raise _outage(exc, where=output_dir or settings.DATASETS_DIR) from exc


def _export(
    *,
    kind: str,
    output_dir: Path | str | None,
    author: Author | None,
    test_fraction: float,
    seed: int,
    push_to_hub: str | None,
    user,
    say: Callable[[str], None],
    require_test: bool,
) -> DatasetVersion:
    say(f"Selecting {kind} items")
    select = instruct_selection if kind == "instruct" else preference_selection
    selection = select(author=author, auto_accept=settings.TRAINSETS_AUTO_ACCEPT)
    if not selection.items:
        raise _nothing_left(kind, selection)

    items = selection.items
    groups = {item.group for item in items}
    by_section = len(groups) == 1 and next(iter(groups)).startswith("document:")
    if by_section:  # one document (one long post, say): hold out some of its sections rather than nothing
        items = items_by_section(items)
    say(f"Splitting {len(items)} items by {'section of their one document' if by_section else 'document'}")
    split = groups_split(Counter(item.group for item in items), test_fraction=test_fraction, seed=seed)
    train = [item for item in items if item.group in split.train]
    test = [item for item in items if item.group in split.test]
    if require_test and not test:
        raise ExportError(_nothing_held_out(kind, items))
    leaked = prompts_leaked(train=[item.prompt for item in train], test=[item.prompt for item in test])
    if by_section:  # sections of one text may repeat each other: the author's answers are checked too
        answers = prompts_leaked(train=[item.chosen for item in train], test=[item.chosen for item in test])
        leaked = [prompt or answer for prompt, answer in zip(leaked, answers, strict=True)]
    # The test copy stays: the test set is what measures the model, so the train copy goes.
    selection.filter_stats["leakage"] = sum(verdict is not None for verdict in leaked)
    train = [item for item, verdict in zip(train, leaked, strict=True) if verdict is None]
    if not train:
        raise ExportError("Nothing left to train on: every training item repeats a test prompt.")

    row = writer.instruct_row if kind == "instruct" else writer.preference_row
    return _version_save(
        kind=kind,
        output_dir=Path(output_dir).expanduser().resolve() if output_dir else None,
        author=author,
        test_fraction=test_fraction,
        seed=seed,
        push_to_hub=push_to_hub,
        user=user,
        counts=_counts(kind, train, test, by_section=by_section),
        filter_stats=dict(selection.filter_stats),
        train=[row(item) for item in train],
        test=[row(item) for item in test],
        say=say,
    )


def _target_check(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(f"output_dir {target} already exists and is not an empty directory; choose another.")


def _version_save(
    *,
    kind: str,
    output_dir: Path | None,
    author: Author | None,
    push_to_hub: str | None,
    train: list[dict[str, Any]],
    test: list[dict[str, Any]],
    say: Callable[[str], None],
    **fields: Any,
) -> DatasetVersion:
    staging: Path | None = None
    moved: Path | None = None
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            number = (DatasetVersion.objects.filter(kind=kind).aggregate(n=Max("number"))["n"] or 0) + 1
            target = output_dir or Path(settings.DATASETS_DIR).resolve() / f"{kind}-v{number}"
            _target_check(target)
            version = DatasetVersion.objects.create(
                kind=kind,
                number=number,
                author=author,
                path=str(target),
                files=writer.split_files(kind),
                hub_repo=push_to_hub or "",
                created_by=fields.pop("user"),
                **fields,
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
            staging.chmod(0o755)  # mkdtemp makes it private; the training workers must read it
            say(f"Writing {version.name}: {len(train)} train, {len(test)} test")
            manifest = {
                "kind": kind,
                "version": number,
                "name": version.name,
                "created_at": version.created_at.isoformat(),
                "author": author.name if author else None,
                "counts": version.counts,
                "filter_stats": version.filter_stats,
                "test_fraction": version.test_fraction,
                "seed": version.seed,
                "hub_repo": push_to_hub,
            }
            dataset = writer.version_write(directory=staging, kind=kind, manifest=manifest, train=train, test=test)
            if push_to_hub:
                say(f"Pushing to the Hub: {push_to_hub}")
                try:
                    writer.hub_push(dataset=dataset, repo=push_to_hub, token=settings.HF_TOKEN)
                except Exception as exc:  # the Hub's errors vary (network, auth, quota): all mean "not pushed"
                    raise ExportError(f"Pushing to the Hub repository {push_to_hub} failed: {exc}") from exc
            staging.rename(target)  # an empty target directory is replaced; anything else was refused above
            staging, moved = None, target
    except BaseException as exc:
        if (
            moved is not None
            and isinstance(exc, DATABASE_DOWN_ERRORS)
            and committed_after_all(DatasetVersion, version.pk)
        ):
            return version  # the database went away after committing, before it could say so: the version stands
        # Only what this call wrote is removed: the staging directory, or the target if the commit failed.
        for path in (staging, moved):
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)
        raise
    return version
