"""Dataset generation tasks, on the llm queue."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from apps.rag.providers import ProviderUnavailable
from apps.trainsets.generation.services import generation_run_execute, generation_run_fail
from workers.base import PIPELINE_TASK_OPTIONS, TRANSIENT_ERRORS, PipelineTask


class GenerationTask(PipelineTask):
    def record_failure(self, object_id: int, error: str) -> None:
        generation_run_fail(run_id=object_id, error=error)


# A model server that is down or restarting is worth waiting for, like the database.
_OPTIONS = {**PIPELINE_TASK_OPTIONS, "autoretry_for": (*TRANSIENT_ERRORS, ProviderUnavailable)}


# Under the broker's visibility timeout (CELERY_VISIBILITY_TIMEOUT_S): never handed to a second worker while alive.
@shared_task(base=GenerationTask, soft_time_limit=3300, time_limit=3500, **_OPTIONS)
def generate_datasets(generation_run_id: int) -> dict:
    try:
        run = generation_run_execute(run_id=generation_run_id)
    except SoftTimeLimitExceeded:
        # A corpus can take hours on a local model. The run is resumable: it goes on in a fresh task.
        generate_datasets.apply_async((generation_run_id,), countdown=1)
        return {"generation_run": generation_run_id, "status": "continued"}
    return {"generation_run": run.pk, "status": run.status, "samples": run.samples_created, "pairs": run.pairs_created}
