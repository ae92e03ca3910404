"""Latency of the RAG graph per node on a real corpus, without the cost of generating tokens.

Ingests the Advanced Bash-Scripting Guide (Debian package abs-guide) into a
throw-away embedded PostgreSQL, then asks it questions through the compiled
graph. The generation provider is an instant one that echoes a fixed reply, so
the figures are the graph's own overhead: rewrite and generate show only their
plumbing, retrieve shows query embedding plus the hybrid searches, rerank the
cross-encoder (when one is given).

    .venv/bin/python bench/rag.py [--max-pages N] [--rounds N] [--reranker DIR]

Prints one JSON object: per node p50/p95/mean in ms, and the whole graph.
"""

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import BOOK, run_pipeline, serve, setup_django  # noqa: E402

QUESTIONS = [
    "How do I loop over every file in a directory?",
    "What does the special variable $? hold?",
    "How can I read a file line by line in a script?",
    "What is the difference between single and double quotes?",
    "How do I test whether a file exists?",
    "How do arrays work in bash?",
    "What does set -e do?",
    "How do I redirect both stdout and stderr to a file?",
    "How can a script read command-line options?",
    "What is a here document used for?",
    "How do I do arithmetic in the shell?",
    "How do I write a function that returns a value?",
    "What does the trap command do?",
    "How do I compare two strings?",
    "How can I run a command in the background and wait for it?",
    "What is process substitution?",
]


class InstantProvider:
    """A provider that answers at once, so only the graph's own work is timed."""

    name = "instant"
    model = "instant"

    def generate(self, messages, params):
        from apps.rag.providers import Generation

        return Generation(text="How to do it in bash?\nWhich bash command does it?", model=self.model)

    def stream(self, messages, params) -> Iterator[str]:
        yield from ["Use ", "a loop ", "[1]."]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-pages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reranker", help="a CrossEncoder directory (default: none, fused order)")
    args = parser.parse_args()
    if not BOOK.is_dir():
        sys.exit(f"{BOOK} is missing: install the Debian package abs-guide")

    data_dir = tempfile.mkdtemp(prefix="twr-", dir="/tmp")
    server, base_url = serve(BOOK)
    try:
        setup_django(data_dir)
        ingested = run_pipeline(base_url, args.max_pages)
        from apps.rag.configuration import RagConfiguration
        from apps.rag.reranking import Reranker
        from apps.rag.services import rag_answer

        reranker = Reranker(Path(args.reranker)) if args.reranker else None
        configuration = RagConfiguration(provider=InstantProvider(), reranker=reranker, use_reranker=bool(reranker))
        rag_answer(question=QUESTIONS[0], configuration=configuration)  # warm up: models loaded, plans cached
        per_node: dict[str, list[float]] = {}
        totals = []
        for _ in range(args.rounds):
            for question in QUESTIONS:
                result = rag_answer(question=question, configuration=configuration)
                for node, ms in result.timings_ms.items():
                    per_node.setdefault(node, []).append(ms)
                totals.append(sum(result.timings_ms.values()))
    finally:
        server.shutdown()
        from apps.core import embedded

        embedded.stop_all(Path(data_dir))
        shutil.rmtree(data_dir, ignore_errors=True)

    def summary(values: list[float]) -> dict:
        return {
            "p50_ms": round(statistics.median(values), 2),
            "p95_ms": round(percentile(values, 0.95), 2),
            "mean_ms": round(statistics.fmean(values), 2),
        }

    print(
        json.dumps(
            {
                "corpus": {"pages": ingested["pages"], "chunks": ingested["chunks"]},
                "questions": len(totals),
                "reranker": args.reranker,
                "nodes": {node: summary(values) for node, values in per_node.items()},
                "graph": summary(totals),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
