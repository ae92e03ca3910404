"""A causal language model loaded for evaluation: batched greedy replies and the perplexity of given answers.

Every prompt goes through the model's own chat template, the one training saves
with the model, so a twin is evaluated the way it is served.
"""

import gc
import math
from dataclasses import dataclass
from typing import Any

from training.base_model import base_model_resolve, model_load, precision_detect, tokenizer_load
from training.config import ConfigError

Messages = list[dict[str, str]]


class ModelLoadError(ConfigError):
    """A model directory that cannot be evaluated; the message names the field that pointed at it."""


@dataclass
class LoadedModel:
    name: str  # the path it was loaded from, as reported
    tokenizer: Any
    model: Any

    @property
    def device(self) -> Any:
        return self.model.device

    def release(self) -> None:
        """Free the weights now (one 8B model at a time fits where two may not)."""
        import torch

        self.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def load_model(path: str, *, field: str) -> LoadedModel:
    """Tokenizer and model ("" = the packaged SmolLM2), in bf16 on a GPU when there is one, for inference.

    A bad path raises ModelLoadError naming the config field that gave it.
    """
    try:
        resolved = base_model_resolve(path)
        tokenizer = tokenizer_load(resolved)
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise ModelLoadError(f"{field}: {exc}") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    precision = precision_detect()
    # sdpa, not flash-attention: short greedy answers gain little from it, and left padding is sdpa's home ground.
    model = model_load(resolved, precision=precision, attn_implementation="sdpa").to(precision.device)
    model.eval()
    return LoadedModel(name=resolved, tokenizer=tokenizer, model=model)


def generate_replies(
    lm: LoadedModel,
    conversations: list[Messages],
    *,
    max_new_tokens: int,
    batch_size: int = 8,
    prefill: str = "",
    stop: str = "",
) -> list[str]:
    """Greedy replies to each conversation, in batches (left-padded, so every reply starts at the same column).

    prefill starts the reply with the given text, which the model continues (and the reply includes);
    generation ends early once every reply of a batch contains stop.
    """
    import torch

    tokenizer = lm.tokenizer
    replies: list[str] = []
    for start in range(0, len(conversations), batch_size):
        batch = conversations[start : start + batch_size]
        if prefill:
            turn = {"role": "assistant", "content": prefill}
            prompts = [
                tokenizer.apply_chat_template([*c, turn], continue_final_message=True, tokenize=False) for c in batch
            ]
        else:
            prompts = [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in batch]
        tokenizer.padding_side = "left"
        inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(lm.device)
        stopping = {"stop_strings": [stop], "tokenizer": tokenizer} if stop else {}
        with torch.no_grad():
            output = lm.model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                **stopping,
            )
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        replies.extend((prefill + text).strip() for text in texts)
    return replies


def answer_loss(lm: LoadedModel, prompt: Messages, answer: str) -> tuple[float, int]:
    """Summed negative log-likelihood (nats) of answer after prompt, and the number of answer tokens scored.

    The answer is scored as the chat template places it, with the end-of-turn token that closes it:
    ending the answer where the author ended it is part of writing like them.
    """
    import torch

    tokenizer = lm.tokenizer
    context = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template([*prompt, {"role": "assistant", "content": answer}], tokenize=False)
    scored = answer
    if full.startswith(context) and (at := full.find(answer, len(context))) >= 0:
        # Whatever the template puts before the answer (an empty thinking block, say) is context, not answer.
        context = full[:at]
        end = at + len(answer)
        eos = tokenizer.eos_token or ""
        scored = full[at : end + len(eos)] if eos and full.startswith(eos, end) else answer
    context_ids = tokenizer(context, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(scored, add_special_tokens=False)["input_ids"]
    if not answer_ids:
        return 0.0, 0
    limit = getattr(lm.model.config, "max_position_embeddings", None) or len(context_ids) + len(answer_ids)
    ids = (context_ids + answer_ids)[-limit:]  # too long: the start of the prompt goes first
    scored_count = min(len(answer_ids), len(ids) - 1)
    input_ids = torch.tensor([ids], device=lm.device)
    with torch.no_grad():
        logits = lm.model(input_ids=input_ids).logits[0, :-1].float()
    targets = input_ids[0, 1:]
    log_probs = torch.log_softmax(logits, dim=-1).gather(1, targets.unsqueeze(1)).squeeze(1)
    return float(-log_probs[-scored_count:].sum()), scored_count


def perplexity(losses: list[tuple[float, int]]) -> float:
    """Token-weighted perplexity over several answers: exp of the mean negative log-likelihood per token."""
    tokens = sum(count for _, count in losses)
    if not tokens:
        raise ValueError("perplexity needs at least one scored token")
    return math.exp(sum(nll for nll, _ in losses) / tokens)
