"""Greedy generation with the packaged SmolLM2 on the caller's thread, with torch's OpenMP threads spinning
(OMP_WAIT_POLICY unset, libgomp's default) and passive (what twinsite/settings.py sets), side by side in one run.

Each variant runs in a fresh process while one other process keeps a core busy, as a database, a worker or a
web server does beside the model on a small machine.

    .venv/bin/python bench/omp_wait.py [--rounds 3] [--tokens 30]

Prints one JSON object.
"""

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from apps.rag.providers import ChatMessage, GenerationParams
from apps.rag.providers.local import LocalProvider
provider = LocalProvider(cache_dir=Path(sys.argv[2]))
messages = [ChatMessage("user", "Why would a Debian user pick the stable release?")]
params = GenerationParams(max_tokens=int(sys.argv[3]), temperature=0.0)
provider.generate(messages, params)  # warm-up: kernels for these shapes
seconds = []
for _ in range(int(sys.argv[4])):
    started = time.perf_counter()
    result = provider.generate(messages, params)
    seconds.append(time.perf_counter() - started)
print("RESULT" + json.dumps({"seconds": seconds, "tokens": result.completion_tokens, "text": result.text}))
"""


def busy(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def measure(policy: str | None, cache: str, tokens: int, rounds: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    stop = multiprocessing.Event()
    neighbour = multiprocessing.Process(target=busy, args=(stop,))
    neighbour.start()
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), cache, str(tokens), str(rounds)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        stop.set()
        neighbour.join()
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))
    result = json.loads(line[len("RESULT") :])
    median = statistics.median(result["seconds"])
    return {
        "median_s": round(median, 2),
        "seconds": [round(s, 2) for s in result["seconds"]],
        "tokens_per_s": round(result["tokens"] / median, 1),
        "text": result["text"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=30)
    args = parser.parse_args()
    report: dict = {"cpus": os.cpu_count(), "loadavg_start": Path("/proc/loadavg").read_text().split()[:3]}
    with tempfile.TemporaryDirectory(prefix="twomp-") as cache:
        report["spinning_unset"] = measure(None, cache, args.tokens, args.rounds)
        report["passive"] = measure("PASSIVE", cache, args.tokens, args.rounds)
    report["speedup"] = round(report["spinning_unset"]["median_s"] / report["passive"]["median_s"], 2)
    report["same_text"] = report["spinning_unset"]["text"] == report["passive"]["text"]
    report["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
