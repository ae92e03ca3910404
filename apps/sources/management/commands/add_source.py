from django.core.management.base import BaseCommand, CommandError

from apps.sources.credentials import url_credentials_split
from apps.sources.models import Author, Source
from apps.sources.options import OptionError, option_parse
from apps.sources.selectors import author_find
from apps.sources.services import source_create
from lib.errors import TwinsiteError


class Command(BaseCommand):
    help = "Add a source of an author's writing and print its id (the author is created if new)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--author", required=True, help="Author name (or one of their aliases).")
        parser.add_argument("--url", required=True, help="URL, repository, or a path inside IMPORT_ROOTS.")
        parser.add_argument("--kind", choices=Source.Kind.values, help="Guessed from the URL when omitted.")
        parser.add_argument("--schedule", default="", help='Cron expression for re-crawls, e.g. "0 3 * * *".')
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="A crawler option of the kind, e.g. --option include_drafts=true --option base_url=https://x.example "
            "(lists: --option authors=Ada,Grace). Each kind's options are listed in README.md.",
        )

    def handle(self, *args, author: str, url: str, kind: str | None, schedule: str, option: list[str], **_) -> None:
        try:
            crawler_options = dict(option_parse(text) for text in option)
        except OptionError as exc:
            raise CommandError(str(exc)) from None
        person = author_find(name=author) or Author.objects.create(name=author.strip())
        existing = Source.objects.filter(author=person, url=url_credentials_split(url)[0]).first()
        if existing is not None:
            self.stderr.write(f"{person} already has this source; its id is {existing.pk}.")
            self.stdout.write(str(existing.pk))
            return
        try:
            source = source_create(author=person, url=url, kind=kind, schedule=schedule, options=crawler_options)
        except TwinsiteError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(source.pk))
