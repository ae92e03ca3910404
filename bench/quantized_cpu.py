"""Is a quantized packaged model worth it on the CPU? Dynamic int8 (torch.ao) against bf16 and fp32, side by side.

The packaged SmolLM2-135M-Instruct in three forms, measured in turns in one run:
  - fp32: the reference;
  - bf16: what the local provider runs where lib.precision finds native bf16;
  - int8: torch.ao.quantization.quantize_dynamic on the fp32 model (Linear weights int8, activations
    quantized per batch at run time; the LM head is a Linear too).
Per form: greedy decode tokens/s (median), the share of prompts whose greedy answer is the same text as fp32's,
the mean share of fp32's answer tokens matched before the first difference, and the perplexity of fixed
reference answers (the evaluation's primary metric) against fp32's.

    .venv/bin/python bench/quantized_cpu.py [--tokens 32] [--repeats 2]

Prints one JSON object.
"""

import argparse
import copy
import json
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPTS = [
    "How do you decide what to test first in a new project?",
    "What makes a code review useful to the person whose code it is?",
    "Explain what a database index is in two sentences.",
    "Why do people write documentation that nobody reads?",
    "What is the capital of France? Answer in one word.",
    "Give one tip for naming variables.",
]
# Question and an answer in a person's voice, scored as the evaluation scores held-out answers.
REFERENCES = [
    ("How do you name things?", "I name a thing after what it is for, never after how it works today."),
    ("What is a good test?", "One that fails for one reason, and says which, in words a tired person reads."),
    ("Why write docs?", "Because the person who reads them at two in the morning is usually me."),
    ("How do you start a project?", "With the smallest thing that runs end to end, then I make it right."),
]


def load_forms(model_dir: Path) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    fp32 = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    bf16 = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch announces the quantized tensor types' deprecation
        int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(fp32), {torch.nn.Linear}, dtype=torch.qint8)
    return {"fp32": fp32, "bf16": bf16, "int8": int8}


def greedy(model, tokenizer, prompt: str, tokens: int) -> tuple[list[int], float]:
    import torch

    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    started = time.perf_counter()
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=tokens, do_sample=False, pad_token_id=tokenizer.eos_token_id)
    seconds = time.perf_counter() - started
    new = output[0][inputs["input_ids"].shape[1] :].tolist()
    return new, len(new) / seconds


def perplexity(model, tokenizer) -> float:
    import torch

    nll, count = 0.0, 0
    for question, answer in REFERENCES:
        context = tokenizer.apply_chat_template(
            [{"role": "user", "content": question}], add_generation_prompt=True, tokenize=False
        )
        context_ids = tokenizer(context, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([context_ids + answer_ids])
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0, :-1].float()
        log_probs = torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:].unsqueeze(1)).squeeze(1)
        nll -= float(log_probs[-len(answer_ids) :].sum())
        count += len(answer_ids)
    return math.exp(nll / count)


def prefix_share(ours: list[int], reference: list[int]) -> float:
    same = 0
    for a, b in zip(ours, reference, strict=False):
        if a != b:
            break
        same += 1
    return same / max(len(reference), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32, help="new tokens per answer")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoTokenizer

    from lib.packaged_models import packaged_model_dir
    from lib.precision import cpu_supports_bf16
    from training.base_model import model_cache_dir

    model_dir = packaged_model_dir(model_cache_dir())
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    forms = load_forms(model_dir)
    for model in forms.values():
        greedy(model, tokenizer, PROMPTS[0], 4)  # warm-up
    rates: dict[str, list[float]] = {name: [] for name in forms}
    answers: dict[str, list[list[int]]] = {name: [] for name in forms}
    for repeat in range(args.repeats):
        for prompt in PROMPTS:
            for name, model in forms.items():  # in turns: noise hits every form alike
                ids, rate = greedy(model, tokenizer, prompt, args.tokens)
                rates[name].append(rate)
                if repeat == 0:
                    answers[name].append(ids)
    reference = answers["fp32"]
    result = {
        "model": model_dir.name,
        "cpu_native_bf16": cpu_supports_bf16(),
        "torch_threads": torch.get_num_threads(),
        "new_tokens": args.tokens,
        "prompts": len(PROMPTS),
        "forms": {
            name: {
                "tokens_per_s": round(statistics.median(rates[name]), 2),
                "speed_over_fp32": round(statistics.median(rates[name]) / statistics.median(rates["fp32"]), 3),
                "same_text_as_fp32": round(
                    sum(a == r for a, r in zip(answers[name], reference, strict=True)) / len(PROMPTS), 3
                ),
                "prefix_share_of_fp32": round(
                    statistics.mean(prefix_share(a, r) for a, r in zip(answers[name], reference, strict=True)), 3
                ),
                "reference_perplexity": round(perplexity(model, tokenizer), 3),
            }
            for name, model in forms.items()
        },
        "examples": {name: tokenizer.decode(answers[name][0], skip_special_tokens=True) for name in forms},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
