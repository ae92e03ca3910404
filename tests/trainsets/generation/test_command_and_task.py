"""generate_datasets queues a run on the llm queue; the task runs it, retries a model that is down, records failure."""

import json
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command

from apps.rag.providers import ProviderUnavailable
from apps.trainsets.models import GenerationRun, InstructionSample
from tests.trainsets.generation.corpus import PASSAGES, make_corpus
from tests.trainsets.generation.scripted import ScriptedProvider, is_rejected_answer_request
from twinsite.celery import app
from workers.datasets import generate_datasets

pytestmark = pytest.mark.django_db


def question(messages, params) -> str:
    return "A generic answer to that." if is_rejected_answer_request(messages) else "How do you do this every day?"


@contextmanager
def eager():
    """Tasks run in this process when sent, as a worker would run them (only for control flow)."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def provider(monkeypatch):
    """The provider the service builds from settings, replaced by a scripted one."""
    scripted = ScriptedProvider(question)
    monkeypatch.setattr("apps.trainsets.generation.services.provider_from_settings", lambda name=None: scripted)
    return scripted


def test_the_task_lives_on_the_llm_queue_with_late_acks():
    from twinsite.celery import app

    # Sent by name (apps never import workers/), so the queue comes from the routes, as for send_task.
    assert app.amqp.router.route({}, generate_datasets.name)["queue"].name == "llm"
    assert generate_datasets.acks_late
    assert generate_datasets.soft_time_limit < 3600  # below Redis' visibility timeout: never delivered twice


def test_command_queues_a_run_that_the_worker_task_executes(provider, capsys, django_capture_on_commit_callbacks):
    make_corpus()
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("generate_datasets", "--author", "ada example", "--limit", "2", "--no-pairs")
    run = GenerationRun.objects.get()
    assert f"Queued generation run #{run.pk}" in capsys.readouterr().out
    assert (run.status, run.options["limit"], run.options["pairs"], len(callbacks)) == ("queued", 2, False, 1)

    with eager():
        callbacks[0]()  # what the commit does: send the task, here run at once

    run.refresh_from_db()
    assert (run.status, run.extracts_done, run.samples_created, run.pairs_created) == ("succeeded", 2, 2, 0)


def test_a_model_that_is_down_is_retried_and_the_run_goes_on(provider):
    make_corpus(PASSAGES[:1])
    answers = iter([ProviderUnavailable("TGI is restarting")])

    def flaky(messages, params):
        error = next(answers, None)
        if error:
            raise error
        return question(messages, params)

    provider.reply = flaky
    run = GenerationRun.objects.create(options={"pairs": False})
    # As a worker runs it: a retry is a new attempt of the task, not an exception for the caller.
    generate_datasets.apply((run.pk,), throw=False)

    run.refresh_from_db()
    assert (run.status, run.samples_created) == ("succeeded", 1)


def test_a_failing_run_records_its_error(provider):
    make_corpus(PASSAGES[:1])

    def broken(messages, params):
        raise RuntimeError("the model produced NaNs")

    provider.reply = broken
    run = GenerationRun.objects.create(options={})
    result = generate_datasets.apply((run.pk,), throw=False)  # as a worker runs it: on_failure records the error

    assert result.failed() and isinstance(result.result, RuntimeError)

    run.refresh_from_db()
    assert run.status == "failed" and "RuntimeError: the model produced NaNs" in run.error
    assert run.finished_at is not None


def test_sync_json_prints_the_runs_counts(provider, capsys):
    make_corpus()
    call_command("generate_datasets", "--sync", "--json", "--limit", "1")
    counts = json.loads(capsys.readouterr().out)
    assert counts["status"] == "succeeded"
    assert (counts["extracts_total"], counts["samples_created"], counts["pairs_created"]) == (1, 1, 1)
    assert InstructionSample.objects.count() == 1


def test_sync_failure_is_recorded_and_reported(provider):
    make_corpus(PASSAGES[:1])
    provider.reply = lambda messages, params: (_ for _ in ()).throw(ProviderUnavailable("connection refused"))

    with pytest.raises(CommandError, match="connection refused"):
        call_command("generate_datasets", "--sync")
    assert GenerationRun.objects.get().status == "failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--author", "Nobody Known"], "--author: No author is called 'Nobody Known'. Known authors: "),
        (["--limit", "0"], "limit must be"),
        (["--samples-per-extract", "50", "--mode", "generated"], "samples_per_extract must be"),
    ],
)
def test_bad_arguments_get_a_clear_error(args, message):
    make_corpus(PASSAGES[:1])
    with pytest.raises(CommandError, match=message):
        call_command("generate_datasets", *args)
    assert not GenerationRun.objects.exists()
