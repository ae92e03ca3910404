"""Generate instruction samples and preference pairs from the curated corpus, on the llm workers or here."""

import argparse
import json

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.sources.models import Author
from apps.sources.selectors import AuthorNotFound, author_get
from apps.trainsets.generation.options import PROVIDERS, GenerationOptions
from apps.trainsets.generation.services import (
    generation_run_create,
    generation_run_enqueue,
    generation_run_execute,
    generation_run_fail,
)
from apps.trainsets.models import GenerationRun, InstructionSample
from lib.errors import TwinsiteError


def run_counts(run: GenerationRun) -> dict:
    return {
        "generation_run": run.pk,
        "status": run.status,
        "extracts_total": run.extracts_total,
        "extracts_done": run.extracts_done,
        "samples_created": run.samples_created,
        "pairs_created": run.pairs_created,
        "dropped": run.dropped,
        "error": run.error,
    }


class Command(BaseCommand):
    help = "Generate instruction samples (and preference pairs) from curated chunks; queued on the llm workers."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--author", help="Name (or alias) of the author; default: every author.")
        parser.add_argument("--limit", type=int, help="Work on at most this many extracts.")
        parser.add_argument("--mode", choices=InstructionSample.Mode.values, default=InstructionSample.Mode.OWN_TEXT)
        parser.add_argument(
            "--pairs",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Also make preference pairs, and pairs from edited chat answers (default: yes).",
        )
        parser.add_argument("--provider", choices=[p for p in PROVIDERS if p], help="Default: LLM_PROVIDER.")
        parser.add_argument("--samples-per-extract", type=int, default=3, help="Generated mode: pairs per extract.")
        parser.add_argument("--max-tokens", type=int, default=512, help="Most tokens the model writes per answer.")
        parser.add_argument("--sync", action="store_true", help="Generate in this process, with a progress bar.")
        parser.add_argument("--json", action="store_true", help="Print the run's counts as JSON.")

    def handle(self, *args, **options) -> None:
        author = self._author(options["author"]) if options["author"] else None
        try:
            generation = GenerationOptions(
                mode=options["mode"],
                limit=options["limit"],
                pairs=options["pairs"],
                provider=options["provider"] or "",
                samples_per_extract=options["samples_per_extract"],
                max_tokens=options["max_tokens"],
            )
        except TwinsiteError as exc:
            raise CommandError(str(exc)) from None
        if not options["sync"]:
            run = generation_run_enqueue(author=author, options=generation)
            if options["json"]:
                self.stdout.write(json.dumps(run_counts(run)))
            else:
                self.stdout.write(f"Queued generation run #{run.pk} on the llm workers; follow it in the admin.")
            return
        run = self._run_here(generation_run_create(author=author, options=generation))
        if options["json"]:
            self.stdout.write(json.dumps(run_counts(run)))
        else:
            dropped = ", ".join(f"{reason} {count}" for reason, count in sorted(run.dropped.items())) or "none"
            self.stdout.write(
                f"Generation #{run.pk}: {run.status} — extracts {run.extracts_done}/{run.extracts_total}, "
                f"samples {run.samples_created}, pairs {run.pairs_created}, dropped: {dropped}"
            )

    @staticmethod
    def _author(name: str) -> Author:
        try:
            return author_get(name=name)
        except AuthorNotFound as exc:
            raise CommandError(f"--author: {exc}") from exc

    def _run_here(self, run: GenerationRun) -> GenerationRun:
        with tqdm(desc=f"generation #{run.pk}", unit="extract", disable=None) as bar:

            def show(run: GenerationRun) -> None:
                bar.total = run.extracts_total
                bar.n = run.extracts_done
                bar.set_postfix(samples=run.samples_created, pairs=run.pairs_created, dropped=sum(run.dropped.values()))

            try:
                return generation_run_execute(run_id=run.pk, progress=show)
            except KeyboardInterrupt:
                # What was made is kept; a new run picks up the extracts this one did not reach.
                generation_run_fail(run_id=run.pk, error="Interrupted.")
                raise CommandError(f"Generation run #{run.pk} interrupted; run the command again to go on.") from None
            except Exception as exc:
                generation_run_fail(run_id=run.pk, error=f"{exc.__class__.__name__}: {exc}")
                raise CommandError(f"Generation run #{run.pk} failed: {exc}") from exc
