"""The float precision in-process models run in: bf16 where the CPU computes it natively, else fp32.

Detected once per process. ``preference`` lets a setting or a benchmark force one:
"auto" (detect), "bf16" or "fp32". A forced bf16 on a CPU without native support
still runs, emulated and slower, so "auto" never picks it there.
"""

import functools
from pathlib import Path

PRECISIONS = ("auto", "bf16", "fp32")
# Flags of CPUs with native bf16 arithmetic (AVX-512 BF16 dot products, AMX tiles).
_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


@functools.cache
def cpu_supports_bf16() -> bool:
    """True when this CPU has native bf16 instructions and torch's oneDNN can use them."""
    try:
        flags = set()
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags.update(line.split(":", 1)[1].split())
                break
    except OSError:  # not Linux: trust oneDNN's own check alone
        flags = set(_BF16_FLAGS)
    if not flags & _BF16_FLAGS:
        return False
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def precision_for(device: str = "cpu", preference: str = "auto") -> str:
    """ "bf16" or "fp32" for a model on device: a GPU with bf16 support, or a CPU that has it natively."""
    if preference not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {preference!r}")
    if preference != "auto":
        return preference
    if device.startswith("cuda"):
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_supports_bf16() else "fp32"


def torch_dtype(precision: str):
    """The torch dtype of a precision name."""
    import torch

    return {"bf16": torch.bfloat16, "fp32": torch.float32}[precision]
