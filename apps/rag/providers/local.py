"""The local provider: a transformers model run in this process (CPU, or CUDA when there is one).

It serves a model directory (a ModelVersion trained here) or, by default, the
packaged SmolLM2. Prompts go through the model's own chat template, the one
training saves with fine-tuned models, so serving and training agree.
"""

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from apps.rag.providers.base import (
    ChatMessage,
    Generation,
    GenerationParams,
    ProviderError,
    ProviderUnavailable,
    StopTrimmer,
    counted,
    message_dicts,
    trim_at_stop,
)
from lib.errors import ModelUnavailable
from lib.packaged_models import packaged_model_dir

_DECODE = {"skip_special_tokens": True}


class LocalProvider:
    name = "local"

    def __init__(self, path: Path | None = None, *, cache_dir: Path, precision: str = "auto") -> None:
        try:
            model_dir = Path(path) if path else packaged_model_dir(cache_dir)
        except ModelUnavailable as exc:  # to callers, a missing model is a backend that is down
            raise ProviderUnavailable(str(exc)) from exc
        self.model = str(model_dir)
        self._tokenizer, self._model, self.precision = _load(model_dir, precision)
        self._device = self._model.device
        self._context_size: int | None = getattr(self._model.config, "max_position_embeddings", None)
        # One generation at a time: a second one would only halve the speed of both.
        self._lock = threading.Lock()

    @counted
    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Generation:
        inputs = self._prompt(messages, params)
        prompt_tokens = inputs["input_ids"].shape[1]
        try:
            with self._lock:
                output = self._model.generate(**inputs, **self._generation_kwargs(params))
        except Exception as exc:  # out of memory, a broken model: the backend cannot answer
            raise ProviderUnavailable(f"The local model {self.model} failed while generating: {exc}") from exc
        new_tokens = output[0][prompt_tokens:]
        text = self._tokenizer.decode(new_tokens, **_DECODE)
        return Generation(
            text=trim_at_stop(text, params.stop),
            model=self.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(new_tokens),
        )

    @counted
    def stream(self, messages: list[ChatMessage], params: GenerationParams) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        inputs = self._prompt(messages, params)
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, **_DECODE)
        abandoned = threading.Event()
        failure: list[BaseException] = []

        class _Abandoned(StoppingCriteria):
            # Stops the generation when the reader goes away, so the lock is not held for nothing.
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return abandoned.is_set()

        def run() -> None:
            try:
                with self._lock:
                    self._model.generate(
                        **inputs,
                        **self._generation_kwargs(params),
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Abandoned()]),
                    )
            except BaseException as exc:  # noqa: BLE001 - reported to the reader below
                failure.append(exc)
                streamer.end()

        thread = threading.Thread(target=run, name="local-generation", daemon=True)
        thread.start()
        trimmer = StopTrimmer(params.stop)
        try:
            for piece in streamer:
                if delta := trimmer.feed(piece):
                    yield delta
                if trimmer.stopped:
                    return
            if failure:
                raise ProviderUnavailable(f"The local model {self.model} failed while generating: {failure[0]}")
            if rest := trimmer.flush():
                yield rest
        finally:
            abandoned.set()
            # The generation stops at its next token; wait for it, so that no forward pass outlives its reader
            # (a process that exits under one aborts in torch) and the next generation finds the lock free.
            thread.join()

    def count_tokens(self, text: str) -> int | None:
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def _prompt(self, messages: list[ChatMessage], params: GenerationParams) -> Any:
        inputs = self._tokenizer.apply_chat_template(
            message_dicts(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        prompt_tokens = inputs["input_ids"].shape[1]
        if self._context_size and prompt_tokens + params.max_tokens > self._context_size:
            raise ProviderError(
                f"The prompt is too long: {prompt_tokens} tokens plus {params.max_tokens} to generate exceed "
                f"the model's {self._context_size}."
            )
        return inputs.to(self._device)

    def _generation_kwargs(self, params: GenerationParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": params.max_tokens, "pad_token_id": self._tokenizer.pad_token_id}
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs["do_sample"] = False
        if params.repetition_penalty != 1.0:
            kwargs["repetition_penalty"] = params.repetition_penalty
        if params.no_repeat_ngram_size > 0:
            kwargs["no_repeat_ngram_size"] = params.no_repeat_ngram_size
        if params.stop:
            # Stop early instead of generating text that is trimmed anyway.
            kwargs.update(stop_strings=list(params.stop), tokenizer=self._tokenizer)
        return kwargs


def _load(model_dir: Path, preference: str) -> tuple[Any, Any, str]:
    """Tokenizer, model and precision from a transformers model directory, on the best device here.

    bf16 where the device computes it natively (detected by lib.precision), else fp32.
    """
    if not model_dir.is_dir():
        raise ProviderUnavailable(f"The local model directory {model_dir} does not exist.")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lib.precision import precision_for, torch_dtype

    cuda = torch.cuda.is_available()
    precision = precision_for("cuda" if cuda else "cpu", preference)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=torch_dtype(precision), device_map="cuda" if cuda else None
        )
    except Exception as exc:  # a missing file, a broken config or corrupt weights: all mean "no model"
        raise ProviderUnavailable(f"The local model at {model_dir} could not be loaded: {exc}") from exc
    if not tokenizer.chat_template:
        raise ProviderUnavailable(f"The local model at {model_dir} has no chat template to build prompts with.")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return tokenizer, model, precision
