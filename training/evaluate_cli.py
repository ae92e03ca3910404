"""The command line of training/evaluate.py, with a progress bar and a summary table.

python -m training.evaluate --dataset DIR --model DIR [--base PATH] [--output report.json]
    [--judge local|openai|none] [--judge-model ...] [--judge-url ...] [--max-samples N]
"""

import argparse
import json
import os
import sys
from pathlib import Path

from lib.errors import TwinsiteError
from training.evaluate import ROLES, EvalConfig, run_evaluation
from training.judge import JudgeConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training.evaluate", description="Compare a twin with its base model on a test split."
    )
    parser.add_argument("--dataset", required=True, type=Path, help="an instruct dataset version directory")
    parser.add_argument("--model", required=True, help="the twin model directory")
    parser.add_argument("--base", default="", help="the base model directory (default: packaged SmolLM2)")
    parser.add_argument("--output", type=Path, help="write the JSON report here (default: print it)")
    parser.add_argument("--judge", choices=("local", "openai", "none"), default="local")
    parser.add_argument("--judge-model", default="", help="local: a model directory; openai: the model name")
    parser.add_argument("--judge-url", default="", help="openai: the endpoint, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument("--judge-api-key", default=os.environ.get("OPENAI_API_KEY", ""), help="default $OPENAI_API_KEY")
    parser.add_argument("--max-samples", type=int, default=20)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    return parser


# The report's metrics in table order, with the direction that means "closer to the author".
METRICS = {
    "perplexity": "lower is better",
    "style_similarity": "higher is better",
    "function_word_distance": "lower is better",
    "overlap_rouge_l": "higher is better",
    "judge_accuracy": "1-3, higher is better",
    "judge_style": "1-3, higher is better",
}


def _summary(report: dict) -> str:
    lines = [f"{report['samples']} test samples of {report['dataset']}", f"{'':<24}{'twin':>10}{'base':>10}"]
    for key, hint in METRICS.items():
        twin, base = (_cell(report["models"][role][key]) for role in ROLES)
        lines.append(f"{key:<24}{twin:>10}{base:>10}   {hint}")
    if report["judge"]:
        judge = report["judge"]
        lines.append(f"judge {judge['model']}: {judge['unparseable']} of {judge['verdicts']} verdicts unparseable")
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    from tqdm import tqdm

    args = _parser().parse_args(argv)
    judge = None
    if args.judge != "none":
        judge = JudgeConfig(args.judge, model=args.judge_model, base_url=args.judge_url, api_key=args.judge_api_key)
    config = EvalConfig(
        dataset_dir=args.dataset,
        model=args.model,
        base_model=args.base,
        output=args.output,
        judge=judge,
        max_samples=args.max_samples,
        max_new_tokens=args.max_new_tokens,
        seed=args.seed,
    )
    with tqdm(desc="evaluating", unit="step", file=sys.stderr) as bar:

        def on_progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            report = run_evaluation(config, on_progress=on_progress)
        except TwinsiteError as exc:  # a bad setting, a missing model, a judge that stopped answering
            bar.close()
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.output:
        print(_summary(report))
        print(f"report written to {args.output}")
    else:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0
