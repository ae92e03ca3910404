"""Writing the trained model: the LoRA adapter as it is, or one standalone directory with LoRA merged in.

An adapter directory (adapter_config.json + adapter_model.safetensors, tokenizer and template
beside) is served on its base model, many authors' adapters on one base. A merged directory
needs no PEFT and stands alone (``merge``, the default for the all-authors twin). Either is
written into a staging directory and renamed into place, so a crash leaves no half model.
"""

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from training.config import config_to_dict
from training.results import LossRecorder, TrainingResult


def model_merge_and_save(*, model: Any, tokenizer: Any, output_dir: Path, merge: bool = True) -> Path:
    """Save model (a PeftModel: merged when merge, else its adapter alone) and tokenizer to output_dir."""
    from peft import PeftModel

    if isinstance(model, PeftModel) and merge:
        model = model.merge_and_unload()
    if isinstance(model, PeftModel):
        model.base_model.model.config.use_cache = True
    else:
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
    """Save the trained model to config.output_dir (merged, or the adapter alone when config.merge is false) and
    describe the run: config plus the settings chosen."""
    output_dir = model_merge_and_save(
        model=trainer.model, tokenizer=tokenizer, output_dir=config.output_dir, merge=getattr(config, "merge", True)
    )
    return recorder.result(
        output_dir=output_dir,
        base_model=base_model,
        steps=trainer.state.global_step,
        runtime_s=time.monotonic() - started,
        config={**config_to_dict(config), **settings},
    )
