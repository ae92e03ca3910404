"""bench/train_throughput.py on the CPU: the scaled-down shape runs both setups and reports the JSON fields."""

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "train_throughput.py"


def test_cpu_bench_reports_both_setups(capsys):
    spec = importlib.util.spec_from_file_location("train_throughput", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    assert bench.main(["--steps", "2", "--warmup", "1"]) == 0

    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["device"] == "cpu" and report["shape"]["hidden_size"] == 64 and report["shape"]["seq"] == 128
    for setup in ("stock", "twinsite"):
        assert report[setup]["tokens_per_s"] > 0 and report[setup]["peak_mem_gib"] > 0
    assert report["stock"]["settings"]["packing"] is False and report["twinsite"]["settings"]["packing"] is True
    assert report["speedup"] == round(report["twinsite"]["tokens_per_s"] / report["stock"]["tokens_per_s"], 3)
