"""Helpers for the export tests: the real samples under tests/fixtures/exports, as folders or zips."""

import shutil
import zipfile
from pathlib import Path

from apps.sources.crawlers.base import CrawledDocument, CrawlFailure, CrawlSkipped, SourceSpec
from apps.sources.crawlers.exports import ExportCrawler

EXPORTS = Path(__file__).resolve().parent.parent / "fixtures" / "exports"


def zipped(platform: str, destination: Path, *, top_folder: str = "") -> Path:
    """The sample of one platform as the zip the platform hands out (optionally inside one top folder)."""
    archive = destination / f"{platform}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped_file:
        for path in sorted((EXPORTS / platform).rglob("*")):
            if path.is_file() and path.name != "SOURCES.md":
                name = path.relative_to(EXPORTS / platform).as_posix()
                zipped_file.write(path, f"{top_folder}/{name}" if top_folder else name)
    return archive


def copied(platform: str, destination: Path) -> Path:
    folder = destination / platform
    shutil.copytree(EXPORTS / platform, folder, ignore=shutil.ignore_patterns("SOURCES.md"))
    return folder


def crawl(path: Path, **options) -> list[CrawledDocument | CrawlFailure | CrawlSkipped]:
    return list(ExportCrawler().crawl(SourceSpec(url=str(path), kind="export", options=options)))


def documents(items: list) -> dict[str, CrawledDocument]:
    return {item.title: item for item in items if isinstance(item, CrawledDocument)}


def skipped(items: list) -> dict[str, str]:
    return {item.url: item.reason for item in items if isinstance(item, CrawlSkipped)}
