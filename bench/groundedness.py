"""Which sentence-support method tells supported sentences from unsupported ones, on a labelled set.

The set (tests/fixtures/groundedness/labeled.jsonl) pairs Debian FAQ passages with sentences:
paraphrases and restatements (supported), contradictions, invented details and what SmolLM2-135M
wrote from those passages (unsupported). For each method of apps.rag.grounding it prints ROC AUC,
the threshold with the best accuracy, and at that threshold the accuracy and the share of
unsupported sentences that would pass (what would reach the user).

    .venv/bin/python bench/groundedness.py [--precision auto|bf16|fp32]
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LABELED = ROOT / "tests/fixtures/groundedness/labeled.jsonl"


def roc_auc(scores: list[float], labels: list[bool]) -> float:
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def best_threshold(scores: list[float], labels: list[bool]) -> dict:
    best = None
    for threshold in sorted(set(scores)):
        passed = [s >= threshold for s in scores]
        accuracy = sum(p == y for p, y in zip(passed, labels, strict=True)) / len(labels)
        false_pass = sum(p and not y for p, y in zip(passed, labels, strict=True)) / labels.count(False)
        kept = sum(p and y for p, y in zip(passed, labels, strict=True)) / labels.count(True)
        # Ties go to the higher threshold: letting an unsupported sentence through costs more than losing one.
        if best is None or accuracy >= best["accuracy"]:
            best = {"threshold": threshold, "accuracy": round(accuracy, 3)}
            best.update(unsupported_passed=round(false_pass, 3), supported_kept=round(kept, 3))
    return best


def kept_when_none_pass(scores: list[float], labels: list[bool]) -> float:
    """The share of supported sentences kept at the lowest threshold that lets no unsupported one through."""
    threshold = max((s for s, y in zip(scores, labels, strict=True) if not y), default=0.0)
    return round(sum(s > threshold and y for s, y in zip(scores, labels, strict=True)) / labels.count(True), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    from apps.rag.grounding import SupportScorer
    from lib.packaged_models import packaged_minilm_path
    from lib.precision import precision_for, torch_dtype

    precision = precision_for("cpu", args.precision)
    model = SentenceTransformer(str(packaged_minilm_path()), device="cpu", local_files_only=True)
    model.to(torch_dtype(precision))

    def encode(texts):
        return model.encode(texts, normalize_embeddings=True, convert_to_numpy=True).astype("float32").tolist()

    encode(["warm up"])
    items = [json.loads(line) for line in LABELED.read_text().splitlines() if line.strip()]
    labels = [item["supported"] for item in items]
    report = {"items": len(items), "supported": labels.count(True), "precision": precision, "methods": {}}
    for name, options in {
        "lexical": {"method": "lexical"},
        "semantic": {"method": "semantic", "encode": encode},
        "hybrid_0.3": {"method": "hybrid", "encode": encode, "semantic_weight": 0.3},
        "hybrid_0.5": {"method": "hybrid", "encode": encode, "semantic_weight": 0.5},
        "hybrid_0.7": {"method": "hybrid", "encode": encode, "semantic_weight": 0.7},
    }.items():
        scorer = SupportScorer(**options)
        started = time.perf_counter()
        scores = [
            s.score for s in scorer.support_many([i["sentence"] for i in items], [{1: i["passage"]} for i in items])
        ]
        elapsed = time.perf_counter() - started
        report["methods"][name] = {
            "roc_auc": round(roc_auc(scores, labels), 3),
            **best_threshold(scores, labels),
            "supported_kept_when_no_unsupported_passes": kept_when_none_pass(scores, labels),
            "ms_per_sentence": round(elapsed * 1000 / len(items), 2),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
