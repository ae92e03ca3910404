"""Writing the trained model as one standalone directory: LoRA merged into the weights, tokenizer and template beside.

This is what TGI and the local provider load: no adapter files, no PEFT needed. It is
written into a staging directory and renamed into place, so a crash leaves no half model.
"""

import shutil
import tempfile
from pathlib import Path
from typing import Any


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
