import json

from django.core.management.base import BaseCommand

from apps.core.management.errors import command_error
from apps.rag.reranker_training.service import RerankerTrainingOptions, RerankerTrainingResult, reranker_train
from apps.rag.reranking import registered_reranker_path
from lib.errors import TwinsiteError

ROWS = (("fused", "fused retrieval order"), ("base", "base model, untrained"), ("reranker", "trained reranker"))


class Command(BaseCommand):
    help = (
        "Fine-tune a cross-encoder reranker on the corpus (questions made from its own sentences, hard negatives "
        "mined by retrieval) and report held-out hit@1 and MRR@10. Experimental: it is saved, and registered for "
        "the rerank node only with --force."
    )

    def add_arguments(self, parser) -> None:
        defaults = RerankerTrainingOptions()
        parser.add_argument("--epochs", type=float, default=defaults.epochs)
        parser.add_argument("--max-pairs", type=int, default=defaults.max_pairs, help="Cap on training pairs.")
        parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
        parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument(
            "--held-out", type=float, default=defaults.held_out_fraction, help="Fraction of documents to test on."
        )
        parser.add_argument(
            "--questions-from-llm", action="store_true", help="Have the generation provider write the questions."
        )
        parser.add_argument("--json", action="store_true", help="Print the version's metadata and metrics as JSON.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Register it for the rerank node (experimental: no held-out gain over retrieval has been shown).",
        )

    def handle(self, *args, **options) -> None:
        show_progress = options["verbosity"] > 0
        try:
            training = RerankerTrainingOptions(
                epochs=options["epochs"],
                max_pairs=options["max_pairs"],
                batch_size=options["batch_size"],
                learning_rate=options["learning_rate"],
                seed=options["seed"],
                held_out_fraction=options["held_out"],
                questions_from_llm=options["questions_from_llm"],
                force=options["force"],
            )
            result = reranker_train(
                options=training,
                show_progress=show_progress,
                on_stage=(lambda message: self.stderr.write(message)) if show_progress else None,
            )
        except TwinsiteError as error:
            raise command_error(error, flags=["max_pairs"]) from None
        self._warn_if_worse_than_retrieval(result.metadata)
        if options["json"]:
            payload = {"version_dir": str(result.version_dir), "registered_path": str(registered_reranker_path())}
            self.stdout.write(json.dumps({**payload, **result.metadata}, indent=2))
        else:
            self._print_summary(result)

    def _print_summary(self, result: RerankerTrainingResult) -> None:
        metadata = result.metadata
        if metadata["registered"]:
            self.stdout.write(f"Registered {result.version_dir} as {registered_reranker_path()}.")
        else:
            self.stdout.write(
                f"Saved {result.version_dir}; not registered: trained rerankers are experimental, --force registers it."
            )
        self.stdout.write(
            f"Held out: {metadata['questions']['held_out']} questions from "
            f"{metadata['documents']['held_out']} documents; trained on {metadata['pairs']['total']} pairs."
        )
        self.stdout.write(f"{'':24}{'hit@1':>8}{'MRR@10':>8}")
        for key, label in ROWS:
            scores = metadata["metrics"][key]
            self.stdout.write(f"{label:24}{scores['hit@1']:>8.3f}{scores['mrr@10']:>8.3f}")

    def _warn_if_worse_than_retrieval(self, metadata: dict) -> None:
        metrics = metadata["metrics"]
        fused, trained = metrics["fused"]["mrr@10"], metrics["reranker"]["mrr@10"]
        if trained < fused:
            outcome = "registered anyway (--force)" if metadata["registered"] else "not registered"
            self.stderr.write(
                f"Warning: on held-out questions the trained reranker (MRR@10 {trained:.3f}) orders candidates worse "
                f"than retrieval alone ({fused:.3f}): {outcome}. More writing, pairs or epochs may help."
            )
