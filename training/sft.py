"""Supervised fine-tuning (TRL SFTTrainer, LoRA by default) on an instruct export; writes a model or an adapter.

    python -m training.sft --dataset var/datasets/instruct-v3 --output var/models/twin-sft [--config sft.yaml]
    python -m training.sft ... --merge false    # keep the LoRA adapter as an adapter (served on its base)

What it chooses for the hardware (see ``sft_plan``), so the bench measures what users get:
- precision: bf16 weights and autocast where the GPU supports it, fp16 on older GPUs, fp32 on a CPU;
- packing: "bfd" (best-fit decreasing) packs whole samples into rows of ``max_length`` and trains padding-free:
  each sample keeps its own position ids, and attention never crosses from one sample into another
  (flash-attention's varlen kernels when flash-attn is installed, else sdpa with a block-diagonal mask);
- with sdpa the padding-free batch is one long sequence whose mask is dense, so attention would cost
  (rows x max_length)^2: micro-batches of one packed row are accumulated instead, the same tokens per step;
- Liger's Triton kernels (RMSNorm, RoPE, SwiGLU) on CUDA when liger-kernel is installed; the loss is already
  TRL's fused, chunked LM head.
"""

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.base_model import (
    Precision,
    attention_implementation,
    base_model_resolve,
    liger_available,
    lora_config,
    model_load,
    precision_detect,
    tokenizer_load,
)
from training.config import config_from_args
from training.data import export_dataset
from training.merge import trained_model_result
from training.results import LossRecorder, TrainingResult


@dataclass
class SftConfig:
    dataset_dir: Path
    output_dir: Path
    base_model: str = ""  # "" = packaged SmolLM2-135M-Instruct
    use_lora: bool = True
    merge: bool = True  # LoRA merged into a standalone model; false: the adapter alone (adapter_config.json)
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    epochs: float = 1.0
    max_steps: int = -1
    learning_rate: float = 2e-4
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    max_length: int = 1024
    packing: bool = True
    gradient_checkpointing: bool = False
    seed: int = 0
    logging_steps: int = 1
    model_cache_dir: Path | None = None  # where "" (the packaged model) is converted; default $MODEL_CACHE_DIR
    attn_implementation: str = ""  # "" = flash_attention_2 when installed on CUDA, else sdpa


def sft_plan(config: SftConfig, *, precision: Precision, attn_implementation: str) -> dict[str, Any]:
    """The TRL SFTConfig settings for this config on this hardware (everything but paths and logging)."""
    batch_size, accumulation = config.batch_size, config.gradient_accumulation_steps
    if config.packing and not attn_implementation.startswith("flash_attention"):
        batch_size, accumulation = 1, config.batch_size * config.gradient_accumulation_steps
    return {
        "per_device_train_batch_size": batch_size,
        "gradient_accumulation_steps": accumulation,
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps,
        "learning_rate": config.learning_rate,
        "max_length": config.max_length,
        "packing": config.packing,
        "packing_strategy": "bfd",
        "activation_checkpointing": config.gradient_checkpointing,  # transformers 5 name of gradient checkpointing
        "seed": config.seed,
        "bf16": precision.bf16,
        "fp16": precision.fp16,
        "use_liger_kernel": liger_available(device=precision.device),
        "dataloader_pin_memory": precision.device == "cuda",
    }


def sft_trainer_build(
    *,
    model: Any,
    tokenizer: Any,
    train_dataset: Any,
    plan: dict[str, Any],
    scratch_dir: Path,
    peft_config: Any = None,
    callbacks: list | None = None,
    logging_steps: int = 1,
    show_progress: bool = True,
) -> Any:
    import warnings

    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(
        output_dir=str(scratch_dir),
        logging_steps=logging_steps,
        save_strategy="no",
        report_to="none",
        disable_tqdm=not show_progress,
        **plan,
    )
    with warnings.catch_warnings():
        # use_liger_kernel is deprecated in favour of Hub kernels, which an offline machine cannot download.
        warnings.filterwarnings("ignore", message=".*use_liger_kernel.*", category=FutureWarning)
        return SFTTrainer(
            model=model,
            args=args,
            train_dataset=train_dataset,
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=callbacks,
        )


def run_sft(config: SftConfig, *, on_log: Callable[[dict], None] | None = None) -> TrainingResult:
    """Fine-tune config.base_model on the export's train split; the model (or adapter) lands in config.output_dir."""
    started = time.monotonic()
    train_dataset = export_dataset(dataset_dir=config.dataset_dir, kind="instruct")
    base = base_model_resolve(config.base_model, cache_dir=config.model_cache_dir)
    precision = precision_detect(use_lora=config.use_lora)
    attn = config.attn_implementation or attention_implementation(device=precision.device)
    plan = sft_plan(config, precision=precision, attn_implementation=attn)
    tokenizer = tokenizer_load(base)
    model = model_load(base, precision=precision, attn_implementation=attn)
    peft_config = lora_config(config)
    recorder = LossRecorder(on_log)
    with tempfile.TemporaryDirectory(prefix="twinsite-sft-") as scratch:
        trainer = sft_trainer_build(
            model=model,
            tokenizer=tokenizer,
            train_dataset=train_dataset,
            plan=plan,
            scratch_dir=Path(scratch),
            peft_config=peft_config,
            callbacks=[recorder],
            logging_steps=config.logging_steps,
            show_progress=on_log is None,
        )
        trainer.train()
    settings = {
        "base_model_path": base,
        "device": precision.device,
        "dtype": precision.dtype_name,
        "attn_implementation": attn,
        "trainer": plan,
    }
    return trained_model_result(
        trainer=trainer,
        tokenizer=tokenizer,
        recorder=recorder,
        config=config,
        base_model=config.base_model or base,
        started=started,
        settings=settings,
    )


ALIASES = {"dataset_dir": ["--dataset"], "output_dir": ["--output"], "base_model": ["--base"]}


def main(argv: list[str] | None = None) -> int:
    from training.cli import cli_run

    return cli_run(
        lambda args: run_sft(config_from_args(SftConfig, args, description=__doc__.splitlines()[0], aliases=ALIASES)),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
