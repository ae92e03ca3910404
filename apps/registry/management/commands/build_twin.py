"""Build the twin end to end: export -> SFT -> DPO -> evaluate -> promote, each step recorded, with progress."""

import json

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.registry.management.progress import evaluation_bar, training_bar
from apps.registry.models import EvalRun, TrainingRun
from apps.registry.services.twin import PROFILES, TwinBuild, twin_build
from apps.sources.selectors import AuthorNotFound, author_get
from lib.errors import TwinsiteError


class Command(BaseCommand):
    help = (
        "Build the twin from the approved training data: export both datasets, fine-tune (SFT, then DPO on the "
        "labeled pairs), evaluate against production (or the packaged SmolLM2) and promote through the gate. "
        "Runs on CPU in minutes with SmolLM2-135M; --quick is a smoke test of a few steps."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--author", help="This author's twin (by name): their samples and pairs, a LoRA adapter, their own stages."
        )
        parser.add_argument(
            "--merge", action="store_true", help="With --author: a standalone merged model instead of an adapter."
        )
        parser.add_argument("--quick", action="store_true", help="A few steps and samples: checks the pipeline.")
        parser.add_argument("--force", action="store_true", help="Promote even if the gate refuses the new model.")
        parser.add_argument("--json", action="store_true", help="Print what the build recorded as JSON.")

    def handle(self, *args, **options) -> None:
        bars: dict[int, tqdm] = {}

        def bar_for(key: int, desc: str, unit: str) -> tqdm:
            if key not in bars:
                for old in bars.values():
                    old.close()
                bars[key] = tqdm(desc=desc, unit=unit, disable=None)
            return bars[key]

        def on_training(run: TrainingRun) -> None:
            training_bar(bar_for(run.pk, f"{run.stage} run #{run.pk}", "step"))(run)

        def on_evaluation(run: EvalRun) -> None:
            evaluation_bar(bar_for(-run.pk, f"evaluation #{run.pk}", "step"))(run)

        try:
            author = author_get(name=options["author"]) if options["author"] else None
        except AuthorNotFound as exc:
            raise CommandError(f"--author: {exc}") from None
        try:
            build = twin_build(
                author=author,
                profile=PROFILES["quick" if options["quick"] else "default"],
                force=options["force"],
                merge=options["merge"],
                on_stage=lambda message: self.stderr.write(f"== {message}"),
                on_training=on_training,
                on_evaluation=on_evaluation,
            )
        except TwinsiteError as exc:
            raise CommandError(str(exc)) from None
        finally:
            for bar in bars.values():
                bar.close()
        self._report(build, as_json=options["json"])

    def _report(self, build: TwinBuild, *, as_json: bool) -> None:
        version = build.version
        summary = {
            "datasets": [d.name for d in (build.instruct, build.preference) if d is not None],
            "splits": {d.name: d.counts for d in (build.instruct, build.preference) if d is not None},
            "training_runs": [{"id": r.pk, "stage": r.stage, "status": r.status} for r in build.runs],
            "eval_run": build.evaluation.pk if build.evaluation else None,
            "model_version": version.name if version else None,
            "author": version.author.name if version and version.author_id else None,
            "kind": version.kind if version else None,
            "stage": version.stage if version else None,
            "metrics": (version.metrics.get("evaluation") or {}).get("twin") if version else None,
            "promoted": build.promotion is not None,
            "refused": build.refused or None,
            "notes": build.notes,
        }
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        for note in build.notes:
            self.stderr.write(note)
        for dataset in (build.instruct, build.preference):
            if dataset is not None:
                self.stdout.write(f"{dataset.name}: {dataset.split_summary}")
        for run in build.runs:
            self.stdout.write(f"{run.stage.upper()} run #{run.pk}: {run.status}")
        metrics = summary["metrics"] or {}
        self.stdout.write(
            f"{version.name}: perplexity {_figure(metrics.get('perplexity'))}, "
            f"style similarity {_figure(metrics.get('style_similarity'))}"
        )
        if build.promotion is not None:
            self.stdout.write(
                f"{version.name} is now the production model of {version.author_label}. "
                "TGI: manage.py serving_env, then docker compose restart tgi."
            )
        else:
            self.stderr.write(f"Kept as a candidate: {build.refused} build_twin --force promotes it anyway.")


def _figure(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, int | float) else "not measured"
