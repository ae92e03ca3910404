"""Crawlers by source kind, and the kind guessed from a URL when none is given."""

import re
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from apps.sources.crawlers.base import Crawler
from apps.sources.crawlers.paths import is_local_path
from lib.errors import TwinsiteError

__all__ = ["crawler_for", "guess_kind", "is_local_path"]

_FEED_PATH = re.compile(r"(/feed/?|/rss/?|/atom/?|\.rss|\.atom|/(atom|rss|feed|index)\.xml)$", re.IGNORECASE)
_SITEMAP_PATH = re.compile(r"sitemap[^/]*\.xml(\.gz)?$", re.IGNORECASE)
_GIT_HOSTS = {"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"}


def guess_kind(url: str) -> str:
    """The source kind a URL most likely is; "article" when nothing else fits."""
    if url.startswith(("mongodb://", "mongodb+srv://")):
        return "warehouse"
    if is_local_path(url):
        path = Path(url).expanduser()
        if (path / ".git").exists():
            return "github"
        if path.is_dir() and any(path.glob("*.json")) and not any(path.glob("*.md")):
            return "warehouse"
        return "export"
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path
    if path.endswith(".git") or (host in _GIT_HOSTS and path.strip("/").count("/") == 1):
        return "github"
    if _SITEMAP_PATH.search(path):
        return "sitemap"
    if _FEED_PATH.search(path):
        return "feed"
    return "article"


def crawler_for(kind: str) -> Crawler:
    """A crawler for the kind, its HTTP client configured from settings."""
    if kind in {"article", "feed", "sitemap", "site"}:
        from apps.core.http import HttpClient
        from apps.sources.crawlers.article import ArticleCrawler
        from apps.sources.crawlers.feed import FeedCrawler
        from apps.sources.crawlers.site import SiteCrawler
        from apps.sources.crawlers.sitemap import SitemapCrawler

        web = {"article": ArticleCrawler, "feed": FeedCrawler, "sitemap": SitemapCrawler, "site": SiteCrawler}
        return web[kind](HttpClient.from_settings())
    if kind == "github":
        from apps.sources.crawlers.github import GitRepositoryCrawler

        return GitRepositoryCrawler(allowed_hosts=settings.CRAWLER_ALLOWED_HOSTS, import_roots=settings.IMPORT_ROOTS)
    if kind == "export":
        from apps.sources.crawlers.exports import ExportCrawler

        return ExportCrawler(import_roots=settings.IMPORT_ROOTS)
    if kind == "warehouse":
        from apps.sources.crawlers.warehouse import WarehouseCrawler

        return WarehouseCrawler(allowed_hosts=settings.CRAWLER_ALLOWED_HOSTS, import_roots=settings.IMPORT_ROOTS)
    raise TwinsiteError(f"There is no crawler for sources of kind {kind!r}.")
