"""A task whose worker dies under it every time is not delivered for ever.

Redelivery is what the broker does with a late-acked task whose process died: the same task id comes
back. ``Task.apply`` with a fixed ``task_id`` runs the task in this process through the worker's own
tracer, as each such delivery would (tests/workers/test_worker_faults.py kills real worker processes).
"""

import uuid

import pytest

from apps.documents.models import Document
from tests.factories import make_document
from workers.base import MAX_DELIVERIES
from workers.process import process_document

pytestmark = pytest.mark.django_db


def test_a_task_delivered_past_the_cap_is_recorded_failed_and_not_run_and_a_new_request_runs():
    document = make_document(text="Vacuum reclaims the space that dead tuples hold.")
    task_id = f"died-under-it-{uuid.uuid4()}"  # deliveries are counted in the cache, which outlives a test
    for _ in range(MAX_DELIVERIES):  # delivered again and again: each delivery runs it
        assert process_document.apply(args=(document.pk,), task_id=task_id).get()["document"] == document.pk
    assert Document.objects.get(pk=document.pk).status == Document.Status.PROCESSED

    assert process_document.apply(args=(document.pk,), task_id=task_id).get() is None
    document.refresh_from_db()
    assert (document.status, document.processing_error) == (
        Document.Status.FAILED,
        "Delivered 4 times, and its worker process stopped each time before it finished (out of memory?); "
        "it is not run again.",
    )

    # A retry of that task (a transient error) counts apart, and so does a new request for the document.
    assert process_document.apply(args=(document.pk,), task_id=task_id, retries=1).get() is not None
    assert process_document.apply(args=(document.pk,), task_id=str(uuid.uuid4())).get()["document"] == document.pk
