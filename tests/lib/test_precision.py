"""lib.precision: which precision the in-process models run in."""

import pytest

from lib.precision import PrecisionError, cpu_flags, precision_for


def test_auto_picks_bf16_only_where_the_hardware_computes_it():
    assert precision_for("cpu", "auto", supported=True) == "bf16"
    assert precision_for("cpu", "auto", supported=False) == "fp32"


def test_a_forced_precision_wins_over_detection():
    assert precision_for("cpu", "fp32", supported=True) == "fp32"
    assert precision_for("cpu", " BF16 ", supported=False) == "bf16"


def test_an_unknown_precision_is_refused_by_name():
    with pytest.raises(PrecisionError, match="auto, bf16, fp32, not 'fp16'"):
        precision_for("cpu", "fp16")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16 amx_tile\n\nprocessor\t: 1\n")
    assert cpu_flags(cpuinfo) == {"fpu", "sse2", "avx512f", "avx512_bf16", "amx_tile"}
    assert cpu_flags(tmp_path / "missing") is None
