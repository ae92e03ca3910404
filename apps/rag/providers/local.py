"""The local provider: a transformers model run in this process (CPU, or CUDA when there is one).

It serves a model directory (a ModelVersion trained here) or, by default, the
packaged SmolLM2, and on top of it the authors' LoRA adapters: one base model in
memory, each author's production adapter loaded by PEFT under its served name
(``author-<id>``) and chosen per request (``GenerationParams.adapter``); a request
without one, or naming one that is not loaded, gets the default model.
``adapters_update`` loads and drops adapters in place, so an author's promotion
costs that author's adapter load, nothing more. Prompts go through the model's
own chat template, the one training saves with fine-tuned models.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
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
from apps.rag.providers.local_models import AdaptersOff, LoadedBase, adapter_base, model_load, precision_choose
from lib.errors import ModelUnavailable
from lib.packaged_models import packaged_model_dir
from lib.production_pointer import is_adapter_dir

logger = logging.getLogger(__name__)

_DECODE = {"skip_special_tokens": True}


@dataclass(frozen=True)
class _Route:
    base: Path
    adapter: str | None  # the PEFT adapter name; None: the base model alone
    served: str  # the directory that answers, as reported


class LocalProvider:
    name = "local"

    def __init__(
        self,
        path: Path | None = None,
        *,
        cache_dir: Path,
        precision: str = "auto",
        adapters: dict[str, Path] | None = None,
    ) -> None:
        try:
            model_dir = Path(path) if path else packaged_model_dir(cache_dir)
        except ModelUnavailable as exc:  # to callers, a missing model is a backend that is down
            raise ProviderUnavailable(str(exc)) from exc
        self.model = str(model_dir)
        self._cache_dir = cache_dir
        self.precision = precision_choose(precision)
        self._bases: dict[Path, LoadedBase] = {}
        self._routes: dict[str, _Route] = {}
        self._unloadable: dict[str, str] = {}  # adapters that failed to load: served name -> directory
        # One generation at a time: a second one would only halve the speed of both. Adapter changes wait too.
        self._lock = threading.Lock()
        self._default = self._route_load("", model_dir)
        base = self._bases[self._default.base]
        self._context_size: int | None = getattr(base.model.config, "max_position_embeddings", None)
        self.adapters_update(adapters or {})

    @property
    def tokenizer(self) -> Any:
        """The default model's tokenizer (adapters share their base's)."""
        return self._bases[self._default.base].tokenizer

    @property
    def adapters(self) -> dict[str, str]:
        """The served adapter names and the directories that answer for them."""
        return {name: route.served for name, route in self._routes.items() if name}

    def adapters_update(self, adapters: dict[str, Path]) -> None:
        """Serve exactly these adapters (served name -> directory): new or moved ones are loaded, gone ones dropped.

        An adapter that cannot be loaded is logged and left out: its author gets the default model, the
        others keep theirs.
        """
        wanted = {name: Path(path) for name, path in adapters.items() if name}
        if {name: str(path) for name, path in wanted.items()} == {**self.adapters, **self._unloadable}:
            return  # the usual case, on every request: nothing to wait for (the lock is held while generating)
        with self._lock:
            self._unloadable = {n: d for n, d in self._unloadable.items() if str(wanted.get(n)) == d}
            for name in [n for n in self._routes if n and n not in wanted]:
                self._route_drop(name)
            for name, directory in wanted.items():
                current = self._routes.get(name)
                if (current is not None and current.served == str(directory)) or self._unloadable.get(name) == str(
                    directory
                ):
                    continue
                try:
                    route = self._route_load(name, directory)
                except ProviderUnavailable as exc:
                    logger.warning("Adapter %s is not served: %s", name, exc)
                    self._unloadable[name] = str(directory)  # not tried again until its directory changes
                    continue
                if current is not None:
                    self._route_drop(name, keep=route)
                self._routes[name] = route

    @counted
    def generate(self, messages: list[ChatMessage], params: GenerationParams) -> Generation:
        route = self._route(params)
        inputs = self._prompt(route, messages, params)
        prompt_tokens = inputs["input_ids"].shape[1]
        try:
            with self._lock, self._selected(route) as model:
                output = model.generate(**inputs, **self._generation_kwargs(route, params))
        except Exception as exc:  # out of memory, a broken model: the backend cannot answer
            raise ProviderUnavailable(f"The local model {route.served} failed while generating: {exc}") from exc
        new_tokens = output[0][prompt_tokens:]
        text = self._bases[route.base].tokenizer.decode(new_tokens, **_DECODE)
        return Generation(
            text=trim_at_stop(text, params.stop),
            model=route.served,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(new_tokens),
        )

    @counted
    def stream(self, messages: list[ChatMessage], params: GenerationParams) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        route = self._route(params)
        inputs = self._prompt(route, messages, params)
        streamer = TextIteratorStreamer(self._bases[route.base].tokenizer, skip_prompt=True, **_DECODE)
        abandoned = threading.Event()
        failure: list[BaseException] = []

        class _Abandoned(StoppingCriteria):
            # Stops the generation when the reader goes away, so the lock is not held for nothing.
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return abandoned.is_set()

        def run() -> None:
            try:
                with self._lock, self._selected(route) as model:
                    model.generate(
                        **inputs,
                        **self._generation_kwargs(route, params),
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
                raise ProviderUnavailable(f"The local model {route.served} failed while generating: {failure[0]}")
            if rest := trimmer.flush():
                yield rest
        finally:
            abandoned.set()
            # The generation stops at its next token; wait for it, so that no forward pass outlives its reader
            # (a process that exits under one aborts in torch) and the next generation finds the lock free.
            thread.join()

    def served(self, adapter: str) -> str:
        """What answers a request for adapter: its directory, or the default model's."""
        return self._route(GenerationParams(adapter=adapter)).served

    def count_tokens(self, text: str) -> int | None:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def _route(self, params: GenerationParams) -> _Route:
        return self._routes.get(params.adapter, self._default) if params.adapter else self._default

    def _selected(self, route: _Route) -> AbstractContextManager[Any]:
        """The model to generate with, its adapter active (or every adapter off); called under the lock."""
        model = self._bases[route.base].model
        # An adapter a promotion dropped since the request chose it: the base answers this once.
        if route.adapter is not None and route.adapter in self._bases[route.base].adapters:
            model.set_adapter(route.adapter)
            return nullcontext(model)
        if self._bases[route.base].adapters:
            return AdaptersOff(model)
        return nullcontext(model)

    def _route_load(self, name: str, directory: Path) -> _Route:
        """Load what serves directory: a standalone model as a base, an adapter into its base (loaded once)."""
        if not directory.is_dir():
            raise ProviderUnavailable(f"The local model directory {directory} does not exist.")
        if not is_adapter_dir(directory):
            self._base(directory)
            return _Route(base=directory, adapter=None, served=str(directory))
        base = self._base(adapter_base(directory, self._cache_dir))
        peft_name = f"{name or 'default'}--{directory.name}".replace(".", "_")
        try:
            if not base.adapters:
                from peft import PeftModel

                # autocast_adapter_dtype=False: the adapter runs in the base's precision (bf16 where it is native).
                base.model = PeftModel.from_pretrained(
                    base.model, directory, adapter_name=peft_name, autocast_adapter_dtype=False
                )
            elif peft_name not in base.adapters:
                base.model.load_adapter(directory, adapter_name=peft_name, autocast_adapter_dtype=False)
        except Exception as exc:  # a missing file, a mismatched base or corrupt weights
            raise ProviderUnavailable(f"The adapter at {directory} could not be loaded: {exc}") from exc
        base.model.eval()
        base.adapters[peft_name] = directory
        return _Route(base=base.directory, adapter=peft_name, served=str(directory))

    def _route_drop(self, name: str, *, keep: _Route | None = None) -> None:
        route = self._routes.pop(name)
        base = self._bases[route.base]
        in_use = {r.adapter for r in self._routes.values()} | {keep.adapter if keep else None}
        # PEFT keeps at least one adapter on a PeftModel: the last one stays loaded, unused.
        if route.adapter and route.adapter not in in_use and len(base.adapters) > 1:
            base.model.delete_adapter(route.adapter)
            del base.adapters[route.adapter]

    def _base(self, directory: Path) -> LoadedBase:
        if directory not in self._bases:
            tokenizer, model = model_load(directory, self.precision)
            self._bases[directory] = LoadedBase(directory=directory, tokenizer=tokenizer, model=model)
        return self._bases[directory]

    def _prompt(self, route: _Route, messages: list[ChatMessage], params: GenerationParams) -> Any:
        base = self._bases[route.base]
        inputs = base.tokenizer.apply_chat_template(
            message_dicts(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        prompt_tokens = inputs["input_ids"].shape[1]
        if self._context_size and prompt_tokens + params.max_tokens > self._context_size:
            raise ProviderError(
                f"The prompt is too long: {prompt_tokens} tokens plus {params.max_tokens} to generate exceed "
                f"the model's {self._context_size}."
            )
        return inputs.to(base.model.device)

    def _generation_kwargs(self, route: _Route, params: GenerationParams) -> dict[str, Any]:
        tokenizer = self._bases[route.base].tokenizer
        kwargs: dict[str, Any] = {"max_new_tokens": params.max_tokens, "pad_token_id": tokenizer.pad_token_id}
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
            kwargs.update(stop_strings=list(params.stop), tokenizer=tokenizer)
        return kwargs
