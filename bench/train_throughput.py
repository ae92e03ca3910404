"""SFT throughput: training/sft.py's settings against stock TRL SFTTrainer + PEFT, in the same run.

The model is Llama-3.1-8B-shaped (hidden 4096, 32 layers, 32 heads, 8 KV heads,
intermediate 14336, vocab 128256), built from its config with random weights, with
LoRA r=32 on every linear layer and sequences up to 2048 tokens. Without a GPU a
scaled-down shape runs instead (hidden 64, 2 layers, vocab 512, sequences up to 128)
so the script stays testable.

Both runs see the same samples: token sequences whose lengths follow a long-tailed
distribution like instruction data (log-normal, median a quarter of the maximum, clipped
to [32, max]). Stock is SFTTrainer's defaults with batch 4, sdpa and no packing (each
batch padded to its longest sample; TRL's default gradient checkpointing on unless
--stock-gradient-checkpointing off). "twinsite" is what training/sft.py chooses on this
hardware (training.sft.sft_plan). tokens_per_s counts real tokens (no padding) over the
timed steps, after warm-up steps.

    .venv/bin/python bench/train_throughput.py [--steps N] [--warmup N] [--small]

Prints one JSON object: {"device", "shape", "stock": {"tokens_per_s", "peak_mem_gib"}, "twinsite": {...}, "speedup"}.
"""

import argparse
import gc
import json
import math
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transformers import TrainerCallback  # noqa: E402

LLAMA_8B = {
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "vocab_size": 128256,
    "seq": 2048,
}
SMALL = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 128,
    "vocab_size": 512,
    "seq": 128,
}
BATCH, LORA_R = 4, 32


class ThroughputMeter(TrainerCallback):
    """The time and TRL's running count of real tokens at every logged step (after a GPU sync)."""

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda
        self.points: list[tuple[int, float, float]] = []  # (step, seconds, tokens so far)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "num_tokens" in logs:
            if self.cuda:
                import torch

                torch.cuda.synchronize()
            self.points.append((state.global_step, time.perf_counter(), float(logs["num_tokens"])))


def sample_lengths(count: int, *, seq: int, seed: int) -> list[int]:
    import random

    rng = random.Random(seed)  # noqa: S311 - sample lengths, not secrets
    return [max(32, min(seq, int(rng.lognormvariate(math.log(seq / 4), 0.6)))) for _ in range(count)]


def synthetic_dataset(*, count: int, seq: int, vocab: int, seed: int = 0):
    import torch
    from datasets import Dataset

    generator = torch.Generator().manual_seed(seed)
    rows = [
        torch.randint(3, vocab, (length,), generator=generator).tolist()
        for length in sample_lengths(count, seq=seq, seed=seed)
    ]
    return Dataset.from_dict({"input_ids": rows})


def tiny_tokenizer() -> Any:
    """The trainer only needs pad and eos ids for pre-tokenized data: a three-token tokenizer made in memory."""
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    special = {"pad_token": "<pad>", "eos_token": "<eos>", "unk_token": "<unk>"}
    backend = Tokenizer(models.WordLevel({"<pad>": 0, "<eos>": 1, "<unk>": 2}, unk_token=special["unk_token"]))
    return PreTrainedTokenizerFast(tokenizer_object=backend, **special)


def random_model(shape: dict, *, dtype_name: str, attn: str, device: str) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        **{k: v for k, v in shape.items() if k != "seq"},
        max_position_embeddings=max(8192, shape["seq"]),
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
    )
    config._attn_implementation = attn
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype_name))
    try:
        with torch.device(device):  # built where it trains: 16 GB of bf16 weights never pass through the CPU
            model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    return model


def measure(name: str, *, shape: dict, steps: int, warmup: int, stock_checkpointing: str) -> dict[str, Any]:
    import torch
    from peft import LoraConfig

    from training.base_model import attention_implementation, precision_detect
    from training.sft import SftConfig, sft_plan, sft_trainer_build

    precision = precision_detect(use_lora=True)
    cuda = precision.device == "cuda"
    seq = shape["seq"]
    if name == "stock":
        attn = "sdpa"
        plan: dict[str, Any] = {
            "per_device_train_batch_size": BATCH,
            "max_length": seq,
            "packing": False,
            "bf16": precision.bf16,
            "fp16": precision.fp16,
            "learning_rate": 1e-4,
        }
        if stock_checkpointing != "default":
            plan["activation_checkpointing"] = stock_checkpointing == "on"
    else:
        attn = attention_implementation(device=precision.device)
        config = SftConfig(dataset_dir=Path("."), output_dir=Path("."), batch_size=BATCH, max_length=seq, lora_r=LORA_R)
        plan = sft_plan(config, precision=precision, attn_implementation=attn)
        plan["learning_rate"] = 1e-4
    plan["max_steps"] = warmup + steps
    # Enough samples for the packed run, which takes several samples per row.
    count = (warmup + steps) * BATCH * 5 + 16
    dataset = synthetic_dataset(count=count, seq=seq, vocab=shape["vocab_size"])
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    model = random_model(shape, dtype_name=precision.dtype_name, attn=attn, device=precision.device)
    meter = ThroughputMeter(cuda)
    lora = LoraConfig(r=LORA_R, lora_alpha=2 * LORA_R, lora_dropout=0.0, target_modules="all-linear")
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as scratch:
        trainer = sft_trainer_build(
            model=model,
            tokenizer=tiny_tokenizer(),
            train_dataset=dataset,
            plan=plan,
            scratch_dir=Path(scratch),
            peft_config=lora,
            callbacks=[meter],
            show_progress=False,
        )
        trainer.train()
        effective = {
            "attn_implementation": attn,
            "micro_batch": trainer.args.per_device_train_batch_size,
            "gradient_accumulation_steps": trainer.args.gradient_accumulation_steps,
            "packing": bool(trainer.args.packing),
            "gradient_checkpointing": bool(trainer.args.activation_checkpointing),
            "liger": bool(trainer.args.use_liger_kernel),
        }
    (_, t0, n0), (_, t1, n1) = meter.points[warmup - 1], meter.points[-1]
    peak = (
        torch.cuda.max_memory_allocated() / 2**30
        if cuda
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    )
    del trainer, model
    gc.collect()
    return {
        "tokens_per_s": round((n1 - n0) / (t1 - t0), 1),
        "peak_mem_gib": round(peak, 2),
        "timed_steps": steps,
        "settings": effective,
    }


def run(*, steps: int, warmup: int, small: bool | None = None, stock_checkpointing: str = "default") -> dict:
    import torch

    cuda = torch.cuda.is_available()
    shape = SMALL if (small if small is not None else not cuda) else LLAMA_8B
    device = torch.cuda.get_device_name() if cuda else "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stock = measure("stock", shape=shape, steps=steps, warmup=warmup, stock_checkpointing=stock_checkpointing)
        twinsite = measure("twinsite", shape=shape, steps=steps, warmup=warmup, stock_checkpointing="default")
    return {
        "device": device,
        "shape": {**shape, "lora_r": LORA_R, "batch": BATCH, "lengths": "log-normal, median seq/4, [32, seq]"},
        "stock": stock,
        "twinsite": twinsite,
        "speedup": round(twinsite["tokens_per_s"] / stock["tokens_per_s"], 3),
        "peak_mem_note": "GPU: torch max_memory_allocated; CPU: process peak RSS",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default 20 on a GPU, 4 on a CPU)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 3 on a GPU, 1 on a CPU)")
    parser.add_argument("--small", action="store_true", help="the scaled-down shape even on a GPU")
    parser.add_argument("--stock-gradient-checkpointing", choices=["default", "on", "off"], default="default")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    cuda = torch.cuda.is_available()
    steps = args.steps or (20 if cuda else 4)
    warmup = args.warmup or (3 if cuda else 1)
    result = run(
        steps=steps,
        warmup=warmup,
        small=True if args.small else None,
        stock_checkpointing=args.stock_gradient_checkpointing,
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
