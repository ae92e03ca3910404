"""A run whose caller gives up (a streaming client hung up) closes the model's stream and is traced as such.

Whatever the provider, generation stops when its stream is closed: the local model's stopping criterion,
an HTTP response closed under a remote one. This checks that the graph closes it.
"""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync

from apps.monitoring.models import Trace
from apps.rag.configuration import RagConfiguration
from apps.rag.services import rag_run
from tests.rag.corpus import POSTS, crawl_corpus, write_corpus
from tests.rag.scripted import ScriptedProvider

pytestmark = pytest.mark.django_db(transaction=True)

SENTENCE = POSTS["backups"][1][1].split(". ")[0] + "."  # "Once a month I restore the latest dump ..."


class EndlessProvider(ScriptedProvider):
    """Streams a supported sentence word by word, forever, until its stream is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = threading.Event()
        self.words = 0

    def stream(self, messages, params):
        try:
            while True:
                for word in SENTENCE.split(" "):
                    self.words += 1
                    threading.Event().wait(0.005)
                    yield word + " "
        finally:
            self.closed.set()


@pytest.fixture
def corpus(tmp_path, serve_dir, crawl_settings):
    folder = tmp_path / "blog"
    write_corpus(folder)
    return crawl_corpus(folder, serve_dir(folder))


def test_cancelling_a_run_closes_the_model_stream_and_traces_client_disconnected(corpus):
    provider = EndlessProvider()
    configuration = RagConfiguration(provider=provider, answer_mode="generate", max_tokens=10_000)

    async def hang_up_after_first_token() -> int:
        first = asyncio.Event()
        run = asyncio.ensure_future(
            rag_run(question="How are the backups tested?", configuration=configuration,
                    on_token=lambda _: first.set(), kind="chat")
        )  # fmt: skip
        await first.wait()
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        return provider.words

    # async_to_sync: the graph's database work runs in this thread, on the test's connection.
    words_at_cancel = async_to_sync(hang_up_after_first_token)()

    assert provider.closed.wait(timeout=5)
    words_after = provider.words - words_at_cancel
    assert words_after <= 2, words_after  # the word in flight, at most one more
    trace = Trace.objects.get()
    assert (trace.kind, trace.status) == ("chat", Trace.Status.CLIENT_DISCONNECTED)
    assert trace.answer == SENTENCE.removesuffix(".") + " [1]."  # what the client was shown
