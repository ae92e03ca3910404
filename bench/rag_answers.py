"""Answers on a real corpus with real questions: the old chain, the graph (auto, generate) and extract-only.

Crawls the Debian FAQ (Debian package debian-faq) on 127.0.0.1 into a throw-away database, then asks its
own questions (headings that are questions; the FAQ authors' answers are the references) with the packaged
SmolLM2. Per mode: right page cited, faithfulness (apps.rag.faithfulness, the graph's own scorer), the share
of the reference answer's content words the answer carries (and that share over extract-only's), latency.
The old chain is the code of --old-ref (before the agentic graph), run from a git archive in a subprocess
on the same database; it takes ~40 s a question, so it gets --old-questions of them.

    .venv/bin/python bench/rag_answers.py [--questions 20] [--old-questions 5] [--old-ref REF] [--calibrate]

Prints one JSON object.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faq import FAQ, faq_questions, same_page  # noqa: E402
from ingest import ROOT, run_pipeline, serve, setup_django  # noqa: E402

OLD_REF = "0f724cd"  # main before the agentic graph
OLD_DRIVER = """
import json, os, sys, time
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twinsite.settings")
import django; django.setup()
from apps.rag.services import rag_answer
out = []
for question in json.loads(sys.argv[1]):
    started = time.perf_counter()
    result = rag_answer(question=question)
    total = (time.perf_counter() - started) * 1000
    ids = next((s.get("chunk_ids") or [] for s in result.spans if s["node"] == "rerank"), [])
    out.append({"answer": result.answer, "citations": result.citations, "context_ids": ids, "total_ms": total,
                "timings_ms": result.timings_ms})
print("RESULT" + json.dumps(out))
"""


def old_chain(ref: str, questions: list[str], data_dir: str) -> list[dict]:
    tree = tempfile.mkdtemp(prefix="twold-", dir="/tmp")
    try:
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        env = {**os.environ, "DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
        done = subprocess.run(
            [sys.executable, "-c", OLD_DRIVER, json.dumps(questions)],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))
        return json.loads(line[len("RESULT") :])
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def passages_of(chunk_ids: list[int]) -> dict[int, str]:
    from apps.documents.models import Chunk

    texts = dict(Chunk.objects.filter(pk__in=chunk_ids).values_list("pk", "text"))
    return {n: texts[i] for n, i in enumerate(chunk_ids, start=1) if i in texts}


def score(item: dict, answer: dict, scorer, threshold: float) -> dict:
    from apps.rag.evaluation.metrics import carried
    from apps.rag.faithfulness import answer_faithfulness

    cited = [c for c in answer["citations"] if c.get("cited")] or answer["citations"]
    faithfulness, _ = answer_faithfulness(answer["answer"], passages_of(answer["context_ids"]), scorer, threshold)
    return {
        "right_page": any(same_page(c["document_url"], item["page"]) for c in cited),
        "cited": len(cited),
        "cited_elsewhere": sum(not same_page(c["document_url"], item["page"]) for c in cited),
        "faithfulness": faithfulness if faithfulness is not None else 0.0,
        "carried": carried(item["reference_answer"], answer["answer"]),
        "total_ms": answer["total_ms"],
        "kind": answer.get("answer_kind", ""),
    }


def summary(rows: list[dict]) -> dict:
    return {
        "questions": len(rows),
        "right_page_cited": round(statistics.fmean(r["right_page"] for r in rows), 3),
        "citations_per_answer": round(statistics.fmean(r["cited"] for r in rows), 2),
        # citations of other pages than the reference's: quoted or cited text that answers something else
        "cited_elsewhere_share": round(
            sum(r["cited_elsewhere"] for r in rows) / max(sum(r["cited"] for r in rows), 1), 3
        ),
        "faithfulness": round(statistics.fmean(r["faithfulness"] for r in rows), 3),
        "reference_carried": round(statistics.fmean(r["carried"] for r in rows), 3),
        "total_ms_p50": round(statistics.median(r["total_ms"] for r in rows), 1),
        "answer_kinds": {k: sum(r["kind"] == k for r in rows) for k in sorted({r["kind"] for r in rows})},
    }


def calibrate(items: list[dict], embedder) -> dict:
    """Fit the grade's logistic calibration: question-passage cosine -> does the passage come from the right page."""
    from asgiref.sync import async_to_sync
    from sklearn.linear_model import LogisticRegression

    from apps.rag.configuration import RagConfiguration
    from apps.rag.services import rag_search

    xs, ys = [], []
    for item in items:
        found = async_to_sync(rag_search)(question=item["question"], configuration=RagConfiguration(final_k=10))
        vectors = embedder.encode([item["question"], *(c["text"] for c in found.results)])
        for context, vector in zip(found.results, vectors[1:], strict=True):
            xs.append([sum(a * b for a, b in zip(vectors[0], vector, strict=True))])
            ys.append(int(same_page(context["url"], item["page"])))
    model = LogisticRegression().fit(xs, ys)
    return {
        "slope": round(float(model.coef_[0][0]), 2),
        "intercept": round(float(model.intercept_[0]), 2),
        "pairs": len(ys),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--old-questions", type=int, default=5)
    parser.add_argument("--old-ref", default=OLD_REF)
    parser.add_argument("--modes", default="extract,auto,generate,old")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument(
        "--extract-margins", default="", help="extract mode again at these extract_logit_margin values, e.g. 1,3,inf"
    )
    args = parser.parse_args()
    if not FAQ.is_dir():
        sys.exit(f"{FAQ} is missing: install the Debian package debian-faq")

    data_dir = tempfile.mkdtemp(prefix="twa-", dir="/tmp")
    server, base_url = serve(FAQ)
    report: dict = {"corpus": "debian-faq", "loadavg_start": Path("/proc/loadavg").read_text().split()[:3]}
    try:
        setup_django(data_dir)
        ingested = run_pipeline(base_url, 200)
        report["corpus_size"] = {"pages": ingested["pages"], "chunks": ingested["chunks"]}
        from apps.documents.embedding import embedder
        from apps.rag.components import scorer_for
        from apps.rag.configuration import RagConfiguration
        from apps.rag.services import rag_answer

        items = faq_questions(args.questions)
        configuration = RagConfiguration()
        scorer = scorer_for(configuration)
        if args.calibrate:
            report["calibration"] = calibrate(faq_questions(200, seed=1)[args.questions :], embedder())
        modes = args.modes.split(",")
        runs = [(m, RagConfiguration(answer_mode=m)) for m in modes if m != "old"]
        for margin in filter(None, args.extract_margins.split(",")):
            runs.append(
                (
                    f"extract_margin_{margin}",
                    RagConfiguration(answer_mode="extract", extract_logit_margin=float(margin)),
                )
            )
        results: dict[str, list[dict]] = {}
        for mode, run_configuration in runs:
            rows = []
            for item in items:
                started = time.perf_counter()
                answer = rag_answer(question=item["question"], configuration=run_configuration)
                row = {
                    "answer": answer.answer,
                    "citations": answer.citations,
                    "context_ids": [c["chunk_id"] for c in answer.contexts],
                    "total_ms": (time.perf_counter() - started) * 1000,
                    "answer_kind": answer.answer_kind,
                }
                rows.append(score(item, row, scorer, configuration.support_threshold))
            results[mode] = rows
        if "old" in modes:
            subset = items[: args.old_questions]
            answers = old_chain(args.old_ref, [i["question"] for i in subset], data_dir)
            results["old_chain"] = [
                score(i, {**a, "answer_kind": "old"}, scorer, configuration.support_threshold)
                for i, a in zip(subset, answers, strict=True)
            ]
            if "extract" in results:  # the same questions, for a like-for-like comparison
                results["extract_on_old_questions"] = results["extract"][: len(subset)]
        report["modes"] = {mode: summary(rows) for mode, rows in results.items()}
        if "extract" in report["modes"]:
            base = report["modes"]["extract"]["reference_carried"]
            for figures in report["modes"].values():
                figures["carried_vs_extract"] = round(figures["reference_carried"] / base, 3) if base else None
    finally:
        server.shutdown()
        from apps.core import embedded

        embedded.stop_all(Path(data_dir))
        shutil.rmtree(data_dir, ignore_errors=True)
    report["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
