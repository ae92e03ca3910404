"""Writing the trained model as one standalone directory: LoRA merged into the weights, tokenizer and template beside.

This is what TGI and the local provider load: no adapter files, no PEFT needed. It is
written into a staging directory and renamed into place, so a crash leaves no half model.
"""

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from training.config import config_to_dict
from training.results import LossRecorder, TrainingResult


def model_merge_and_save(*, model: Any, tokenizer: Any, output_dir: Path) -> Path:
    from peft import PeftModel

    if isinstance(model, PeftModel):
        model = model.merge_and_unload()
    model.config.use_cache = True  # training turns the KV cache off; generation wants it
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if output_dir.exists():
            shutil.rmtree(output_dir)
        staging.rename(output_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output_dir


def trained_model_result(
    *,
    trainer: Any,
    tokenizer: Any,
    recorder: LossRecorder,
    config: Any,
    base_model: str,
    started: float,
    settings: dict,
) -> TrainingResult:
    """Save the trained model to config.output_dir (merged) and describe the run: config plus the settings chosen."""
    output_dir = model_merge_and_save(model=trainer.model, tokenizer=tokenizer, output_dir=config.output_dir)
    return recorder.result(
        output_dir=output_dir,
        base_model=base_model,
        steps=trainer.state.global_step,
        runtime_s=time.monotonic() - started,
        config={**config_to_dict(config), **settings},
    )
