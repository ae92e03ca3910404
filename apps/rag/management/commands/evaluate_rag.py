import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.documents.embedding import model_id
from apps.rag.configuration import ANSWER_MODES, RagConfiguration
from apps.rag.evaluation.questions import questions_generate, questions_load
from apps.rag.evaluation.service import rag_evaluate
from apps.rag.providers import ProviderError, provider_from_settings
from apps.sources.selectors import author_find
from lib.errors import TwinsiteError

METRICS_SHOWN = (
    "hit@5", "mrr", "right_page_cited", "context_precision", "context_recall", "faithfulness",
    "answer_relevance", "reference_carried", "refusal_correctness", "total_ms_p50",
)  # fmt: skip


class Command(BaseCommand):
    help = "Evaluate the RAG graph on questions with references; the run is stored and shown on the dashboard."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--questions", type=Path, help="JSONL: question, reference_answer/reference_document.")
        parser.add_argument("--author", help="Only this author's writing (name, alias or handle).")
        parser.add_argument("--limit", type=int, default=20, help="Questions to generate when no file is given.")
        parser.add_argument("--judge", choices=["openai", "local"], help="Also have a model grade each answer 1-5.")
        parser.add_argument("--answer-mode", choices=ANSWER_MODES, help="Override RAG_ANSWER_MODE for this run.")
        parser.add_argument("--name", default="", help="A label for the run.")
        parser.add_argument("--json", action="store_true", help="Print the run's metrics and items as JSON.")

    def handle(self, *args, **options) -> None:
        author = options["author"]
        found = author_find(name=author) if author else None
        if author and found is None:
            raise CommandError(f"--author: no author is called {author!r}.")
        try:
            if options["questions"]:
                questions, source = questions_load(options["questions"]), str(options["questions"])
            else:
                questions = questions_generate(
                    model_id=model_id(), author_id=found.pk if found else None, limit=options["limit"]
                )
                source = f"generated from {options['limit']} held-out chunks, plus unanswerable questions"
            judge = provider_from_settings(options["judge"]) if options["judge"] else None
            configuration = RagConfiguration(answer_mode=options["answer_mode"] or "")
            progress = (
                None
                if options["json"]
                else (lambda item: self.stdout.write("." if not item["refused"] else "r", ending=""))
            )
            run = rag_evaluate(
                questions=questions,
                questions_source=source,
                author=author,
                configuration=configuration,
                judge_provider=judge,
                name=options["name"],
                on_item=progress,
            )
        except TwinsiteError as exc:
            raise CommandError(str(exc)) from None
        except ProviderError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            payload = {"run": run.pk, "model": run.model, "metrics": run.metrics, "items": run.items}
            self.stdout.write(json.dumps(payload, indent=2, default=str))
            return
        self.stdout.write("")
        self.stdout.write(f"Evaluation run {run.pk} ({len(run.items)} questions, model {run.model}):")
        for name in METRICS_SHOWN:
            self.stdout.write(f"  {name:22} {run.metrics.get(name)}")
        if run.metrics.get("judge"):
            self.stdout.write(f"  judge                  {run.metrics['judge']}")
