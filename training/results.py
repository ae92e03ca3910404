"""What a training run returns, and the Trainer callback that records it while the run goes."""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


@dataclass
class TrainingResult:
    output_dir: Path  # a standalone model directory (LoRA merged): config, safetensors, tokenizer, chat template
    base_model: str  # what training started from (path or hub id)
    loss_curve: list[dict] = field(default_factory=list)  # [{"step", "loss", "epoch"}, ...] as logged
    first_loss: float | None = None
    final_loss: float | None = None
    steps: int = 0
    runtime_s: float = 0.0
    config: dict = field(default_factory=dict)  # the effective config, JSON-serialisable
    metrics: dict = field(default_factory=dict)  # the last value of every other logged number (rewards, accuracy...)


class LossRecorder(TrainerCallback):
    """Keeps every logged training loss and hands each log line, with its step, to an on_log callback."""

    def __init__(self, on_log: Callable[[dict], None] | None = None) -> None:
        self._callback = on_log
        self.loss_curve: list[dict] = []
        self.metrics: dict[str, float] = {}

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
        logs = dict(logs or {})
        step, epoch = int(state.global_step), float(state.epoch or 0.0)
        if "loss" in logs and _finite(logs["loss"]):
            self.loss_curve.append({"step": step, "loss": float(logs["loss"]), "epoch": round(epoch, 4)})
        for key, value in logs.items():
            if isinstance(value, int | float) and key != "loss":
                self.metrics[key] = float(value)
        if self._callback is not None:
            self._callback({"step": step, "max_steps": int(state.max_steps), "epoch": epoch, **logs})

    def result(self, *, output_dir: Path, base_model: str, steps: int, runtime_s: float, config: dict):
        return TrainingResult(
            output_dir=output_dir,
            base_model=base_model,
            loss_curve=self.loss_curve,
            first_loss=self.loss_curve[0]["loss"] if self.loss_curve else None,
            final_loss=self.loss_curve[-1]["loss"] if self.loss_curve else None,
            steps=steps,
            runtime_s=round(runtime_s, 3),
            config=config,
            metrics=self.metrics,
        )


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
