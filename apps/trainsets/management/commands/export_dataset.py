"""Freeze the reviewed training data into a new dataset version: JSONL splits, a `datasets` copy, stats."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from apps.sources.selectors import author_find
from apps.trainsets.export.services import ExportError, dataset_version_export
from apps.trainsets.models import DatasetVersion


class Command(BaseCommand):
    help = (
        "Export approved instruction samples (--kind instruct) or labeled preference pairs (--kind preference) "
        "as a new dataset version, split into train and test by source document."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", required=True, choices=DatasetVersion.Kind.values)
        parser.add_argument("--output", help="Directory to write (default: DATASETS_DIR/<kind>-v<N>).")
        parser.add_argument("--author", help="Only this author's items (name, alias or handle).")
        parser.add_argument("--test-fraction", type=float, default=0.1, help="Share of items held out (default 0.1).")
        parser.add_argument("--seed", type=int, default=0, help="Seed of the split (default 0).")
        parser.add_argument("--push-to-hub", metavar="REPO", help="Also push to this Hub dataset (needs HF_TOKEN).")
        parser.add_argument("--json", action="store_true", help="Print the version as JSON.")

    def handle(self, *args, **options) -> None:
        author = None
        if options["author"]:
            author = author_find(name=options["author"])
            if author is None:
                raise CommandError(f"--author: no author is called {options['author']!r}; see the admin.")
        try:
            version = dataset_version_export(
                kind=options["kind"],
                output_dir=options["output"],
                author=author,
                test_fraction=options["test_fraction"],
                seed=options["seed"],
                push_to_hub=options["push_to_hub"],
                progress=lambda message: sys.stderr.write(f"{message}...\n"),
            )
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            payload = {
                "id": version.pk,
                "name": version.name,
                "kind": version.kind,
                "version": version.number,
                "path": version.path,
                "counts": version.counts,
                "filter_stats": version.filter_stats,
                "files": version.files,
                "hub_repo": version.hub_repo or None,
            }
            self.stdout.write(json.dumps(payload, indent=2))
            return
        self.stdout.write(f"Exported {version.name} to {version.path}")
        self.stdout.write(f"  {version.split_summary}")
        left_out = ", ".join(f"{reason} {n}" for reason, n in version.filter_stats.items() if n) or "nothing"
        self.stdout.write(f"  left out: {left_out}")
        if version.hub_repo:
            self.stdout.write(f"  pushed to https://huggingface.co/datasets/{version.hub_repo}")
