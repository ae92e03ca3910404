"""Direct preference optimisation (TRL DPOTrainer) of an SFT model on a preference export.

    python -m training.dpo --dataset var/datasets/preference-v2 --model var/models/twin-sft --output var/models/twin-dpo

A standalone SFT model is given to DPOTrainer as its *path*: DPOTrainer builds its
reference model by loading the policy's name, so a path is what makes the reference
the same SFT model. With LoRA no second copy is loaded at all: the reference is the
policy with its new adapter disabled. At the end the adapter is merged, as in SFT.

An SFT *adapter* (an author's twin) is trained on as it is: its base is loaded with the
adapter trainable, and DPOTrainer keeps a frozen copy of it as the reference ("ref"),
so the reference is the SFT twin, not the bare base. The result is that adapter, further
trained (the LoRA settings are the SFT adapter's), or merged when asked.
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
    adapter_model_load,
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
    model_cache_dir: Path | None = None  # where an adapter's packaged base is found; default $MODEL_CACHE_DIR


def run_dpo(config: DpoConfig, *, on_log: Callable[[dict], None] | None = None) -> TrainingResult:
    """Train config.model towards the chosen answers of the export train split; the model (merged, or the adapter
    when config.merge is false) lands in output_dir."""
    from trl import DPOConfig, DPOTrainer

    started = time.monotonic()
    if not config.model:
        raise FileNotFoundError("DPO needs the SFT model directory to start from (setting 'model', flag --model).")
    train_dataset = export_dataset(dataset_dir=config.dataset_dir, kind="preference")
    model_path = base_model_resolve(config.model)
    precision = precision_detect(use_lora=config.use_lora)
    attn = config.attn_implementation or attention_implementation(device=precision.device)
    tokenizer = tokenizer_load(model_path)
    policy, peft_config, lora = model_path, lora_config(config), {}
    if is_adapter_dir(Path(model_path)):
        if not config.use_lora:
            raise ConfigError(f"model: {config.model} is a LoRA adapter; DPO trains it as one (use_lora: true).")
        policy = adapter_model_load(
            model_path, precision=precision, attn_implementation=attn, cache_dir=config.model_cache_dir
        )
        peft_config = None  # the SFT adapter trains on: no new one
        trained = policy.peft_config["default"]
        lora = {"lora_r": trained.r, "lora_alpha": trained.lora_alpha, "lora_dropout": trained.lora_dropout}
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
            # Only for a policy given by path (a model given as an object is already loaded).
            model_init_kwargs={"dtype": precision.dtype_name, "attn_implementation": attn}
            if isinstance(policy, str)
            else None,
            **plan,
        )
        trainer = DPOTrainer(
            model=policy,
            args=args,
            train_dataset=train_dataset,
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=[recorder],
        )
        trainer.train()
    if "ref" in getattr(trainer.model, "peft_config", {}):
        trainer.model.delete_adapter("ref")  # the frozen reference copy: only the trained adapter is kept
    settings = {
        "model_path": model_path,
        "device": precision.device,
        "dtype": precision.dtype_name,
        "attn_implementation": attn,
        "trainer": plan,
        **lora,  # an SFT adapter trained on keeps its own LoRA settings
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
