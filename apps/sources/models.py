"""Who the twin is of (Author), where their writing lives (Source), and each crawl of it (CrawlRun)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models

from apps.sources.cron import cron_validate
from apps.sources.options import OptionError, source_options_clean
from lib.text.names import name_fold


class Author(models.Model):
    class Access(models.TextChoices):
        PUBLIC = "public", "Everyone with an account"
        RESTRICTED = "restricted", "Only the readers and groups named (and staff)"

    name = models.CharField(max_length=200, unique=True)
    aliases = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    bio = models.TextField(blank=True)
    # {"github": "jdoe", "medium": "@jdoe", ...}: how self-query recognises the author.
    handles = models.JSONField(default=dict, blank=True)
    # Name, aliases and handles folded (lib.text.names): what author lookups match, through a GIN index.
    folded_names = ArrayField(models.CharField(max_length=200), default=list, blank=True, editable=False)
    # Who may talk to this author's twin and read their writing through it (selectors.authors_readable).
    access = models.CharField(max_length=12, choices=Access.choices, default=Access.PUBLIC)
    readers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="readable_authors")
    reader_groups = models.ManyToManyField("auth.Group", blank=True, related_name="readable_authors")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [GinIndex(fields=["folded_names"], name="author_folded_names_gin")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # A derived column, refreshed on every save so that no way of writing an author can leave it stale.
        names = [self.name, *self.aliases, *(self.handles.values() if isinstance(self.handles, dict) else ())]
        self.folded_names = sorted({folded for n in names if (folded := name_fold(str(n)))})
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "folded_names"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if not isinstance(self.handles, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in self.handles.items()
        ):
            raise ValidationError({"handles": 'Handles are {"platform": "handle"} pairs of non-empty text.'})


class Source(models.Model):
    class Kind(models.TextChoices):
        ARTICLE = "article", "Article (one page)"
        FEED = "feed", "RSS / Atom feed"
        SITEMAP = "sitemap", "Sitemap"
        SITE = "site", "Site (breadth-first crawl)"
        GITHUB = "github", "Git repository"
        EXPORT = "export", "Export archive or folder"
        WAREHOUSE = "warehouse", "LLM Engineer's Handbook warehouse"

    class CrawlStatus(models.TextChoices):
        NEVER = "never", "Never crawled"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partly failed"
        FAILED = "failed", "Failed"

    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    url = models.CharField(max_length=2000, help_text="A URL, or a path for local exports and repositories.")
    # The userinfo of the URL as given (a git token, a MongoDB password), sealed: see apps.sources.credentials.
    credentials = models.TextField(blank=True, default="", editable=False)
    options = models.JSONField(default=dict, blank=True, help_text="Crawler options, e.g. max_pages, path_prefix.")
    active = models.BooleanField(default=True)
    schedule = models.CharField(
        max_length=100, blank=True, help_text='Cron expression for re-crawls, e.g. "0 3 * * *". Empty: manual only.'
    )
    last_crawl_status = models.CharField(max_length=20, choices=CrawlStatus.choices, default=CrawlStatus.NEVER)
    last_crawled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["author__name", "url"]
        constraints = [models.UniqueConstraint(fields=["author", "url"], name="source_unique_author_url")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.url}"

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials)

    def clean(self) -> None:
        if self.schedule:
            try:
                cron_validate(self.schedule)
            except ValueError as exc:
                raise ValidationError({"schedule": str(exc)}) from None
        try:
            self.options = source_options_clean(kind=self.kind, options=self.options)
        except OptionError as exc:
            raise ValidationError({"options": str(exc)}) from None


class CrawlRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partly failed"
        FAILED = "failed", "Failed"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="crawl_runs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages_fetched = models.PositiveIntegerField(default=0)
    documents_new = models.PositiveIntegerField(default=0)
    documents_changed = models.PositiveIntegerField(default=0)
    documents_unchanged = models.PositiveIntegerField(default=0)
    pages_failed = models.PositiveIntegerField(default=0)
    # Pages the crawl reached but stored nothing for, each with its reason (a link-only page, a response,
    # a draft left out...): every URL fetched ends as a document, a failure or one of these.
    pages_skipped = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True)
    # Of the unchanged documents, those not even fetched again: a 304 answer, or a listed date unchanged.
    pages_not_modified = models.PositiveIntegerField(default=0)
    # How many times a worker started this run: a worker killed mid-crawl has its task delivered again.
    attempts = models.PositiveSmallIntegerField(default=0)
    # Live progress while it runs: items the crawler handled, and its estimate of the total (0: unknown).
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # [{"url": ..., "error": ...}] for each URL that failed, and the run's own error if it stopped.
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["source", "-created_at"])]

    def __str__(self) -> str:
        return f"Crawl #{self.pk} of {self.source.url} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.PARTIAL, self.Status.FAILED}

    def counts(self) -> dict[str, int]:
        return {
            "fetched": self.pages_fetched,
            "new": self.documents_new,
            "changed": self.documents_changed,
            "unchanged": self.documents_unchanged,
            "failed": self.pages_failed,
            "skipped": self.pages_skipped,
            "not_modified": self.pages_not_modified,
        }

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
