"""Many twins on one model, served locally: tokens per second with 0, 1 and 8 LoRA adapters, and the switch cost.

Three LocalProviders (the packaged SmolLM2 in the precision lib.precision picks), measured in turns in one run:
  - base_only: no adapter loaded;
  - one_adapter: the same prompts answered through an author's adapter;
  - eight_adapters_loaded: eight authors' adapters loaded, the prompts answered through one of them
    (and base_with_eight_loaded: through none);
  - switch: the time to a short answer right after another author's, against right after the same author's.
The adapters have the shape training gives them (LoRA r=16 on every linear layer of the blocks) with random
weights: speed does not depend on what they learnt. Greedy, fixed prompts, median of --repeats.

    .venv/bin/python bench/serving.py [--tokens 48] [--repeats 3] [--switches 8]

Prints one JSON object.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPTS = [
    "How do you decide what to test first in a new project?",
    "What makes a code review useful to the person whose code it is?",
]


def make_adapters(base_dir: Path, folder: Path, count: int, *, rank: int = 16) -> list[Path]:
    """count LoRA adapters of the training shape, each with its own random weights, saved as training saves them."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    paths = []
    for n in range(count):
        torch.manual_seed(n)
        model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
        config = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules="all-linear", init_lora_weights=False)
        peft_model = get_peft_model(model, config)
        path = folder / f"adapter-{n}"
        peft_model.save_pretrained(path)
        paths.append(path)
    return paths


def timed_answer(provider, prompt: str, *, adapter: str, tokens: int) -> tuple[float, float, str]:
    """Seconds, tokens per second and text of one greedy answer."""
    from apps.rag.providers.base import ChatMessage, GenerationParams

    started = time.perf_counter()
    answer = provider.generate([ChatMessage("user", prompt)], GenerationParams(max_tokens=tokens, adapter=adapter))
    seconds = time.perf_counter() - started
    return seconds, answer.completion_tokens / seconds, answer.text


def throughput(setups: dict, *, tokens: int, repeats: int) -> dict:
    """Median tokens/s of each setup (provider, adapter), measured in turns so that machine noise hits them all."""
    rates: dict[str, list[float]] = {name: [] for name in setups}
    texts: dict[str, list[str]] = {name: [] for name in setups}
    for provider, adapter in setups.values():
        timed_answer(provider, PROMPTS[0], adapter=adapter, tokens=4)  # warm-up
    for _ in range(repeats):
        for prompt in PROMPTS:
            for name, (provider, adapter) in setups.items():
                _, rate, text = timed_answer(provider, prompt, adapter=adapter, tokens=tokens)
                rates[name].append(rate)
                texts[name].append(text)
    return {"tokens_per_s": {name: round(statistics.median(r), 2) for name, r in rates.items()}, "texts": texts}


def switch_cost(provider, names: list[str], *, switches: int) -> dict:
    """Median time to a short answer right after another author's, against right after the same author's.

    In turns: answer as A, as A again (same), as B (switched), as B again (same), as C (switched), ...
    """
    same, switched = [], []
    timed_answer(provider, PROMPTS[1], adapter=names[0], tokens=4)  # warm-up
    for n in range(switches):
        switched.append(timed_answer(provider, PROMPTS[1], adapter=names[(n + 1) % len(names)], tokens=4)[0])
        same.append(timed_answer(provider, PROMPTS[1], adapter=names[(n + 1) % len(names)], tokens=4)[0])
    same_ms, switched_ms = statistics.median(same) * 1000, statistics.median(switched) * 1000
    return {
        "same_author_ms": round(same_ms, 1),
        "switched_author_ms": round(switched_ms, 1),
        "cost_ms": round(switched_ms - same_ms, 1),
        "answer_tokens": 4,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=48, help="new tokens per answer")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--switches", type=int, default=8)
    args = parser.parse_args(argv)

    import torch

    from apps.rag.providers.local import LocalProvider
    from lib.packaged_models import packaged_model_dir
    from training.base_model import model_cache_dir

    cache = model_cache_dir()
    base_dir = packaged_model_dir(cache)
    with tempfile.TemporaryDirectory(prefix="twinsite-bench-serving-") as scratch:
        adapters = make_adapters(base_dir, Path(scratch), 8)
        names = [f"author-{n + 1}" for n in range(len(adapters))]

        started = time.perf_counter()
        bare = LocalProvider(cache_dir=cache)
        load_base_s = time.perf_counter() - started
        one = LocalProvider(cache_dir=cache)
        started = time.perf_counter()
        one.adapters_update({names[0]: adapters[0]})
        load_one_s = time.perf_counter() - started
        eight = LocalProvider(cache_dir=cache)
        started = time.perf_counter()
        eight.adapters_update(dict(zip(names, adapters, strict=True)))
        load_eight_s = time.perf_counter() - started

        measured = throughput(
            {
                "base_only": (bare, ""),
                "one_adapter": (one, names[0]),
                "eight_adapters_loaded": (eight, names[0]),
                "base_with_eight_loaded": (eight, ""),
            },
            tokens=args.tokens,
            repeats=args.repeats,
        )
        switch = switch_cost(eight, names, switches=args.switches)

    rates, texts = measured["tokens_per_s"], measured["texts"]
    result = {
        "model": str(base_dir.name),
        "precision": bare.precision,
        "torch_threads": torch.get_num_threads(),
        "new_tokens": args.tokens,
        "tokens_per_s": rates,
        "adapter_over_base": round(rates["one_adapter"] / rates["base_only"], 3),
        "eight_over_one": round(rates["eight_adapters_loaded"] / rates["one_adapter"], 3),
        # Loading seven more adapters must change no answer, through an adapter or without one.
        "same_answers_with_eight_loaded": texts["eight_adapters_loaded"] == texts["one_adapter"]
        and texts["base_with_eight_loaded"] == texts["base_only"],
        "switch": switch,
        "load_s": {
            "base": round(load_base_s, 2),
            "one_adapter": round(load_one_s, 2),
            "eight_adapters": round(load_eight_s, 2),
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
