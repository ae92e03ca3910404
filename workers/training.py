"""Fine-tuning and evaluation tasks, on the training queue.

No automatic retries: a run that failed halfway would start over from step 0
(hours on a GPU). The services record every failure on the run itself; these
hooks record what happens outside them (a time limit, a worker lost).
"""

from celery import shared_task

from apps.registry.services import eval_run_execute, eval_run_fail, training_run_execute, training_run_fail
from workers.base import PipelineTask

_HOURS = 3600


class TrainingTask(PipelineTask):
    def record_failure(self, object_id: int, error: str) -> None:
        training_run_fail(run_id=object_id, error=error)


class EvaluationTask(PipelineTask):
    def record_failure(self, object_id: int, error: str) -> None:
        eval_run_fail(run_id=object_id, error=error)


@shared_task(base=TrainingTask, soft_time_limit=12 * _HOURS, time_limit=12 * _HOURS + 300)
def train_model(training_run_id: int) -> dict:
    run = training_run_execute(run_id=training_run_id)
    version = getattr(run, "model_version", None)
    return {"training_run": run.pk, "status": run.status, "model_version": version.name if version else None}


@shared_task(base=EvaluationTask, soft_time_limit=2 * _HOURS, time_limit=2 * _HOURS + 300)
def evaluate_model(eval_run_id: int) -> dict:
    run = eval_run_execute(run_id=eval_run_id)
    return {"eval_run": run.pk, "status": run.status}
