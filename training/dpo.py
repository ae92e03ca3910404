"""Direct preference optimisation (TRL DPOTrainer) of an SFT model on a preference export; writes a standalone model.

    python -m training.dpo --dataset var/datasets/preference-v2 --model var/models/twin-sft --output var/models/twin-dpo

The policy is given to DPOTrainer as the SFT model's *path*: DPOTrainer builds its
reference model by loading the policy's name, so a path is what makes the reference
the same SFT model. With LoRA no second copy is loaded at all: the reference is the
policy with its adapter disabled. At the end the adapter is merged, as in SFT.
"""

import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lib.production_pointer import is_adapter_dir
from training.base_model import (
    attention_implementation,
    base_model_resolve,
    liger_available,
    lora_config,
    precision_detect,
    tokenizer_load,
)
from training.config import ConfigError, config_from_args
from training.data import export_dataset
from training.merge import trained_model_result
from training.results import LossRecorder, TrainingResult


@dataclass
class DpoConfig:
    dataset_dir: Path
    output_dir: Path
    model: str  # the SFT model directory
    beta: float = 0.1
    learning_rate: float = 5e-6
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 2
    gradient_accumulation_steps: int = 1
    max_length: int = 1024
    use_lora: bool = True
    merge: bool = True  # LoRA merged into a standalone model; false: the adapter alone
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    gradient_checkpointing: bool = False
    seed: int = 0
    logging_steps: int = 1
    attn_implementation: str = ""  # "" = flash_attention_2 when installed on CUDA, else sdpa


def run_dpo(config: DpoConfig, *, on_log: Callable[[dict], None] | None = None) -> TrainingResult:
    """Train config.model towards the chosen answers of the export train split; the merged model lands in output_dir."""
    from trl import DPOConfig, DPOTrainer

    started = time.monotonic()
    if not config.model:
        raise FileNotFoundError("DPO needs the SFT model directory to start from (setting 'model', flag --model).")
    train_dataset = export_dataset(dataset_dir=config.dataset_dir, kind="preference")
    model_path = base_model_resolve(config.model)
    if is_adapter_dir(Path(model_path)):
        # Its reference model would be the SFT adapter on its base, which DPOTrainer does not build from a path.
        raise ConfigError(f"model: {config.model} is a LoRA adapter; DPO starts from a merged SFT model (merge: true).")
    precision = precision_detect(use_lora=config.use_lora)
    attn = config.attn_implementation or attention_implementation(device=precision.device)
    tokenizer = tokenizer_load(model_path)
    peft_config = lora_config(config)
    plan = {
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps,
        "learning_rate": config.learning_rate,
        "beta": config.beta,
        "max_length": config.max_length,
        "activation_checkpointing": config.gradient_checkpointing,  # transformers 5 name of gradient checkpointing
        "seed": config.seed,
        "bf16": precision.bf16,
        "fp16": precision.fp16,
        "use_liger_kernel": liger_available(device=precision.device),
        "dataloader_pin_memory": precision.device == "cuda",
    }
    recorder = LossRecorder(on_log)
    with tempfile.TemporaryDirectory(prefix="twinsite-dpo-") as scratch, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*use_liger_kernel.*", category=FutureWarning)
        args = DPOConfig(
            output_dir=scratch,
            logging_steps=config.logging_steps,
            save_strategy="no",
            report_to="none",
            disable_tqdm=on_log is not None,
            model_init_kwargs={"dtype": precision.dtype_name, "attn_implementation": attn},
            **plan,
        )
        trainer = DPOTrainer(
            model=model_path,
            args=args,
            train_dataset=train_dataset,
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=[recorder],
        )
        trainer.train()
    settings = {
        "model_path": model_path,
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
        base_model=config.model,
        started=started,
        settings=settings,
    )


ALIASES = {"dataset_dir": ["--dataset"], "output_dir": ["--output"]}


def main(argv: list[str] | None = None) -> int:
    from training.cli import cli_run

    return cli_run(
        lambda args: run_dpo(config_from_args(DpoConfig, args, description=__doc__.splitlines()[0], aliases=ALIASES)),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
