"""The official `openai` SDK and LangChain's ChatOpenAI, pointed at a running server's /v1, with the packaged model.

One uvicorn server for the module (the test database is the same throughout); each test crawls the small
corpus it asks about. Answers are kept short (max_tokens 8 to 12): the model is a 135M one on a CPU.
"""

from collections.abc import Iterator

import openai
import pytest
from langchain_openai import ChatOpenAI

from apps.chat.keys import api_key_create
from apps.chat.models import Conversation, Message
from apps.monitoring.models import Trace
from tests.asgi import asgi_server
from tests.rag.corpus import crawl_corpus, write_corpus

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "How long does the sourdough proof, and where?"
TIMEOUT_S = 300  # the first answer of a run also converts the packaged model


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    with django_db_blocker.unblock(), asgi_server(tmp_path_factory.mktemp("server")) as base:
        yield base


@pytest.fixture
def site(tmp_path, serve_dir, crawl_settings) -> str:
    folder = tmp_path / "blog"
    write_corpus(folder)
    base = serve_dir(folder)
    crawl_corpus(folder, base)
    return base


@pytest.fixture
def key(django_user_model) -> str:
    user = django_user_model.objects.create_user(username="sdk", password="pw-sdk-1")
    return api_key_create(user=user, name="openai sdk")[1]


@pytest.fixture
def sdk(server, key) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server}/v1", api_key=key, max_retries=0, timeout=TIMEOUT_S)


def answer_of(content: str) -> str:
    """The answer without the sources list the API appends for plain clients."""
    return content.split("\n\nSources", 1)[0]


def test_the_sdk_lists_the_twins_and_gets_a_cited_answer_stored_as_a_conversation(sdk, site):
    assert [model.id for model in sdk.models.list()] == ["twin", "twin-ada-example"]

    completion = sdk.chat.completions.create(
        model="twin-ada-example", messages=[{"role": "user", "content": QUESTION}], max_tokens=8
    )

    assert completion.object == "chat.completion" and completion.model == "twin-ada-example"
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "length"
    assert completion.usage.completion_tokens == 8 and completion.usage.prompt_tokens > 100
    sources = choice.message.content.split("\n\nSources", 1)[1]
    assert f"[My sourdough routine]({site}/sourdough.html)" in sources
    assert any(c["title"] == "My sourdough routine" for c in completion.citations)  # an extra the SDK keeps
    stored = Message.objects.get(pk=completion.message_id)
    assert stored.content == answer_of(choice.message.content) and stored.role == "assistant"
    conversation = stored.conversation
    assert (conversation.channel, conversation.author_name, conversation.user.username) == (
        "openai",
        "Ada Example",
        "sdk",
    )
    assert completion.id == f"chatcmpl-{conversation.pk.hex}"
    assert Trace.objects.get(pk=completion.trace_id).kind == "chat"  # on the monitoring dashboard like any chat


def test_the_sdk_streams_the_answer_then_its_sources_then_usage_and_done(sdk, site):
    stream = sdk.chat.completions.create(
        model="twin-ada-example",
        messages=[{"role": "user", "content": QUESTION}],
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)  # the SDK stops at data: [DONE]

    assert chunks[0].choices[0].delta.role == "assistant"
    # The answer as the graph streams it (token by token, or checked sentence by sentence), then the sources.
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) >= 2
    finished = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and 0 < usage.completion_tokens <= 12
    assert len(finished) == 1 and finished[0].choices[0].finish_reason == (
        "length" if usage.completion_tokens == 12 else "stop"
    )
    assert all(c.usage is None for c in chunks[:-1])
    stored = Message.objects.get(pk=finished[0].message_id)
    assert texts[-1].startswith("\n\nSources") and "My sourdough routine" in texts[-1]
    assert "".join(texts[:-1]).strip() == stored.content


def test_the_sdk_continues_a_conversation_it_sends_whole(sdk, site):
    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "Overnight, in the fridge [2]."},
        {"role": "user", "content": "And at what temperature do you bake it?"},
    ]
    completion = sdk.chat.completions.create(
        model="twin-ada-example", messages=messages, max_tokens=8, extra_body={"sources_in_content": False}
    )

    assert "Sources" not in completion.choices[0].message.content  # turned off: the citations field remains
    assert completion.citations
    conversation = Conversation.objects.get(pk=completion.conversation_id)
    assert list(conversation.messages.values_list("role", "content")) == [
        ("user", QUESTION),
        ("assistant", "Overnight, in the fridge [2]."),
        ("user", "And at what temperature do you bake it?"),
        ("assistant", completion.choices[0].message.content),
    ]


def test_the_sdk_raises_its_own_errors_for_a_bad_key_and_a_bad_parameter(sdk, server):
    stranger = openai.OpenAI(base_url=f"{server}/v1", api_key="tw_deadbeef_not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        stranger.models.list()
    assert refused.value.code == "invalid_api_key"

    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model="twin", messages=[{"role": "user", "content": QUESTION}], n=2)
    assert (bad.value.param, bad.value.code) == ("n", "unsupported_parameter")
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert missing.value.code == "model_not_found"


def test_langchain_chat_openai_invokes_and_streams(server, key, site):
    chat = ChatOpenAI(
        base_url=f"{server}/v1", api_key=key, model="twin-ada-example", max_tokens=8, max_retries=0, timeout=TIMEOUT_S
    )

    reply = chat.invoke(QUESTION)
    assert f"[My sourdough routine]({site}/sourdough.html)" in reply.content
    assert reply.response_metadata["finish_reason"] == "length" and reply.usage_metadata["output_tokens"] == 8

    pieces = [chunk.content for chunk in chat.stream(QUESTION)]
    assert len([p for p in pieces if p]) >= 2 and pieces[-1] == ""  # the answer, its sources, the finish
    assert "".join(pieces) == reply.content  # greedy decoding: the same answer, streamed
    assert Conversation.objects.filter(channel="openai").count() == 2
