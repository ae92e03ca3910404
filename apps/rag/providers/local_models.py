"""Loading what the local provider serves: model directories, and the base model a LoRA adapter was trained on."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.rag.providers.base import ProviderUnavailable
from lib.packaged_models import packaged_model_dir


@dataclass
class LoadedBase:
    """One model in memory, and the PEFT adapters loaded into it (PEFT name -> directory)."""

    directory: Path
    tokenizer: Any
    model: Any  # a PeftModel once an adapter is loaded
    adapters: dict[str, Path] = field(default_factory=dict)


class AdaptersOff:
    """The PeftModel with every adapter off for the block: the base model answers."""

    def __init__(self, model: Any) -> None:
        self.model, self._off = model, model.disable_adapter()

    def __enter__(self) -> Any:
        self._off.__enter__()
        return self.model

    def __exit__(self, *exc: object) -> None:
        self._off.__exit__(*exc)


def adapter_base(directory: Path, cache_dir: Path) -> Path:
    """The base model an adapter was trained on (adapter_config.json), found here.

    The packaged SmolLM2 is recorded by the path it had where training ran: where that is gone (another
    machine, another cache), the packaged model in this cache stands in when its directory name matches.
    """
    try:
        recorded = json.loads((directory / "adapter_config.json").read_text())["base_model_name_or_path"]
    except (OSError, ValueError, KeyError) as exc:
        raise ProviderUnavailable(f"The adapter at {directory} names no base model: {exc}") from exc
    base = Path(recorded)
    if base.is_dir():
        return base
    packaged = packaged_model_dir(cache_dir)
    if base.name == packaged.name:
        return packaged
    raise ProviderUnavailable(f"The base model {recorded} of the adapter at {directory} is not here.")


def precision_choose(preference: str) -> str:
    import torch

    from lib.precision import precision_for

    return precision_for("cuda" if torch.cuda.is_available() else "cpu", preference)


def model_load(model_dir: Path, precision: str) -> tuple[Any, Any]:
    """Tokenizer and model from a transformers model directory, on the best device here, in precision
    (bf16 where the device computes it natively, as lib.precision detects; else fp32)."""
    if not model_dir.is_dir():
        raise ProviderUnavailable(f"The local model directory {model_dir} does not exist.")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lib.precision import torch_dtype

    cuda = torch.cuda.is_available()
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
    return tokenizer, model
