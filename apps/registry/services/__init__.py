"""Writes to the registry: training runs, evaluations, promotion, and the whole twin build."""

from apps.registry.services.evaluation import (
    eval_run_create,
    eval_run_enqueue,
    eval_run_execute,
    eval_run_fail,
)
from apps.registry.services.promotion import Promotion, PromotionRefused, model_version_promote
from apps.registry.services.training import (
    training_options_clean,
    training_run_create,
    training_run_enqueue,
    training_run_fail,
    training_run_rerun,
)
from apps.registry.services.training_execute import training_run_execute

__all__ = [
    "Promotion",
    "PromotionRefused",
    "eval_run_create",
    "eval_run_enqueue",
    "eval_run_execute",
    "eval_run_fail",
    "model_version_promote",
    "training_options_clean",
    "training_run_create",
    "training_run_enqueue",
    "training_run_execute",
    "training_run_fail",
    "training_run_rerun",
]
