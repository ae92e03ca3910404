"""The files of an export, from a zip or a folder, read safely.

Uploads are untrusted: a zip is refused whole when an entry would land outside the
export (absolute paths, ``..``, symbolic links) or when it unpacks to too many
entries or bytes (zip bombs). Nothing is extracted to disk; entries are read in
memory, each capped, and zipfile never returns more than an entry's declared size.
"""

import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from apps.sources.crawlers.base import CrawledDocument, CrawlSkipped
from lib.errors import TwinsiteError

_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db")
_LAYOUT_FOLDERS = frozenset({"posts", "Articles"})


class ExportError(TwinsiteError):
    """An export archive or folder that cannot be read, or that is refused as unsafe."""


@dataclass(frozen=True)
class ExportLimits:
    max_entries: int = 20_000
    max_total_bytes: int = 1024 * 1024 * 1024
    max_file_bytes: int = 32 * 1024 * 1024


class ExportFiles:
    """Relative POSIX paths of the export's files (a single enclosing folder is stripped), and their bytes."""

    def __init__(self, names: list[str], read: Callable[[str], bytes], *, label: str) -> None:
        self.label = label
        self._read = read
        # A zip of the export's folder: strip that folder, but not one of the layouts' own folders.
        roots = {name.split("/", 1)[0] for name in names}
        enclosing = len(roots) == 1 and all("/" in name for name in names) and not roots & _LAYOUT_FOLDERS
        self._prefix = f"{roots.pop()}/" if enclosing else ""
        self.names = sorted(name.removeprefix(self._prefix) for name in names)

    def in_folder(self, folder: str, suffixes: tuple[str, ...]) -> list[str]:
        """Names directly inside ``folder`` ("" for the top) ending in one of ``suffixes`` (any case)."""
        folder = folder or "."
        return [n for n in self.names if str(PurePosixPath(n).parent) == folder and n.lower().endswith(suffixes)]

    def read_bytes(self, name: str) -> bytes:
        return self._read(self._prefix + name)

    def read_text(self, name: str) -> str:
        # Exports are UTF-8 (Medium, Substack, LinkedIn); a stray bad byte must not lose a whole post.
        return self.read_bytes(name).decode("utf-8-sig", errors="replace")


@contextmanager
def open_export(path: Path, limits: ExportLimits = ExportLimits()) -> Iterator[ExportFiles]:
    """The files of a zip archive or a folder; ExportError when it is neither, or is unsafe or too large."""
    if path.is_dir():
        yield _folder_files(path, limits)
    elif path.is_file() and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                yield _zip_files(archive, path.name, limits)
        except zipfile.BadZipFile:
            raise ExportError(f"The export {path.name} is a damaged zip file.") from None
    else:
        raise ExportError(f"The export {path} is neither a zip file nor a folder.")


def _zip_files(archive: zipfile.ZipFile, label: str, limits: ExportLimits) -> ExportFiles:
    entries = [info for info in archive.infolist() if not info.is_dir()]
    if len(entries) > limits.max_entries:
        raise ExportError(f"The export {label} has more than {limits.max_entries} files and was refused.")
    for info in entries:
        name = info.filename.replace("\\", "/")
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise ExportError(f"The export {label} contains an unsafe path ({info.filename}) and was refused.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ExportError(f"The export {label} contains a symbolic link ({info.filename}) and was refused.")
    if sum(info.file_size for info in entries) > limits.max_total_bytes:
        raise ExportError(f"The export {label} unpacks to more than {_mb(limits.max_total_bytes)} and was refused.")
    by_name = {info.filename: info for info in entries if not _junk(info.filename)}

    def read(name: str) -> bytes:
        info = by_name[name]
        if info.file_size > limits.max_file_bytes:
            raise ExportError(f"{name} in {label} is larger than {_mb(limits.max_file_bytes)}.")
        try:
            with archive.open(info) as entry:
                return entry.read(limits.max_file_bytes + 1)[: limits.max_file_bytes]
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
            raise ExportError(f"{name} in {label} cannot be read ({exc}).") from None

    return ExportFiles(list(by_name), read, label=label)


def _folder_files(root: Path, limits: ExportLimits) -> ExportFiles:
    names: list[str] = []
    total = 0
    for folder, dirs, files in os.walk(root):  # does not follow symlinked folders
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
        for file in files:
            path = Path(folder) / file
            if path.is_symlink():
                continue  # could point anywhere on this machine
            total += path.stat().st_size
            names.append(path.relative_to(root).as_posix())
        if len(names) > limits.max_entries or total > limits.max_total_bytes:
            raise ExportError(f"The export folder {root.name} is too large and was refused.")

    def read(name: str) -> bytes:
        path = root / name
        # Listed as a plain file inside the folder; a link swapped in since must not be followed out of it.
        if path.is_symlink() or not path.resolve().is_relative_to(root.resolve()):
            raise ExportError(f"{name} in {root.name} has become a symbolic link and was not read.")
        if path.stat().st_size > limits.max_file_bytes:
            raise ExportError(f"{name} in {root.name} is larger than {_mb(limits.max_file_bytes)}.")
        return path.read_bytes()

    return ExportFiles([n for n in names if not _junk(n)], read, label=root.name)


def _junk(name: str) -> bool:
    return name.startswith(_JUNK[0]) or PurePosixPath(name).name in _JUNK[1:]


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


@dataclass(frozen=True)
class ExportEntry:
    """One piece of writing found in an export, read when the crawl reaches it.

    ``read`` gives the document, a CrawlSkipped saying why nothing is kept (a draft, a response), or
    None for an entry with no text at all.
    """

    name: str  # where it is in the export, for failures
    read: Callable[[], CrawledDocument | CrawlSkipped | None]
