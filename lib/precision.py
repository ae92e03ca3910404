"""The float precision in-process models run in: bf16 where the CPU computes it natively, else fp32.

One helper for every model the service runs itself (the MiniLM encoder, a cross-encoder reranker, the
local generator). Detected once per process. ``preference`` lets a setting or a benchmark force one:
"auto" (detect), "bf16" or "fp32". A forced bf16 on a CPU without native support still runs, emulated
and slower, so "auto" never picks it there.
"""

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

from lib.errors import ConfigurationError

PRECISIONS = ("auto", "bf16", "fp32")
# Flags of CPUs with native bf16 arithmetic (AVX-512 BF16 dot products, AMX tiles).
_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


class PrecisionError(ConfigurationError, ValueError):
    """An unknown precision was asked for."""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str] | None:
    """The first CPU's feature flags, or None where they cannot be read (not Linux)."""
    try:
        with cpuinfo.open() as lines:
            for line in lines:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        return None
    return frozenset()


@functools.cache
def cpu_supports_bf16() -> bool:
    """True when this CPU has native bf16 instructions and torch's oneDNN can use them."""
    flags = cpu_flags()
    if flags is not None and not flags & _BF16_FLAGS:  # not Linux: trust oneDNN's own check alone
        return False
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def precision_for(device: str = "cpu", preference: str = "auto", *, supported: bool | None = None) -> str:
    """ "bf16" or "fp32" for a model on device: a GPU with bf16 support, or a CPU that has it natively.

    ``supported`` stands in for the detection (tests, or a caller that knows better).
    """
    preference = (preference or "auto").strip().lower()
    if preference not in PRECISIONS:
        raise PrecisionError(f"precision must be one of {', '.join(PRECISIONS)}, not {preference!r}")
    if preference != "auto":
        return preference
    if supported is not None:
        return "bf16" if supported else "fp32"
    if device.startswith("cuda"):
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_supports_bf16() else "fp32"


def torch_dtype(precision: str):
    """The torch dtype of a precision name."""
    import torch

    return {"bf16": torch.bfloat16, "fp32": torch.float32}[precision]


@contextlib.contextmanager
def autocast(precision: str, *, device: str = "cpu") -> Iterator[None]:
    """Run the block's matrix products in bf16 (LayerNorm, softmax and reductions stay fp32), or as is.

    For models whose fp32 weights stay loaded (the encoder, a reranker): MiniLM with all of its
    weights in bf16 (LayerNorm too) lost more (minimum cosine 0.998 to fp32) than under autocast.
    """
    if precision != "bf16":
        yield
        return
    import torch

    with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16):
        yield
