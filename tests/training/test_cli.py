"""python -m training.sft with a YAML config and a flag that overrides it, as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.training.exports import instruct_rows, write_export

ROOT = Path(__file__).resolve().parents[2]


def test_sft_command_reads_yaml_and_flags_and_writes_the_model(smollm2_dir, tmp_path):
    dataset = write_export(tmp_path, "instruct", instruct_rows(0, 2), [], with_hf=False)
    config = tmp_path / "sft.yaml"
    config.write_text(
        f"dataset_dir: {dataset}\noutput_dir: {tmp_path / 'twin'}\nbase_model: {smollm2_dir}\n"
        "max_length: 96\nbatch_size: 1\nmax_steps: 50\nlora_r: 4\n"
    )

    done = subprocess.run(
        [sys.executable, "-m", "training.sft", "--config", str(config), "--max-steps", "2"],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 2 and summary["config"]["lora_r"] == 4
    assert summary["first_loss"] is not None
    assert "'loss'" in done.stdout  # the progress lines show the loss
    assert (tmp_path / "twin" / "config.json").is_file() and list((tmp_path / "twin").glob("*.safetensors"))
