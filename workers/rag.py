"""Background scoring of live chat answers, on the llm queue."""

from celery import shared_task

from apps.rag.services import trace_faithfulness_score
from workers.base import PIPELINE_TASK_OPTIONS


@shared_task(queue="llm", soft_time_limit=120, time_limit=180, **PIPELINE_TASK_OPTIONS)
def score_faithfulness(trace_id: str) -> dict:
    trace = trace_faithfulness_score(trace_id=trace_id)
    return {"trace": trace_id, "faithfulness": trace.faithfulness}
