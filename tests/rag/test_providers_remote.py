"""TGI and OpenAI-compatible providers, through their real client libraries, against real HTTP servers on 127.0.0.1.

The servers answer with the real local SmolLM2, so a remote greedy answer must be
the very text the local provider gives.
"""

import pytest
from huggingface_hub import constants as hub_constants

from apps.rag.providers import ChatMessage, GenerationParams, ProviderError, ProviderUnavailable
from apps.rag.providers.local import LocalProvider
from apps.rag.providers.openai_compatible import OpenAICompatibleProvider
from apps.rag.providers.tgi import TGIProvider
from tests.rag.servers import serve_chat, session_model_cache, shared_local_provider, unused_url

QUESTION = [ChatMessage("user", "What is the capital of France? Answer in one word.")]
GREEDY = GenerationParams(max_tokens=16)
KEY = "sk-test-7f3a9c"
FLAVOURS = ["tgi", "openai"]


def remote_provider(flavour: str, url: str, *, timeout_s: float = 30, api_key: str = KEY):
    if flavour == "tgi":
        return TGIProvider(url, timeout_s=timeout_s)
    return OpenAICompatibleProvider(f"{url}/v1", api_key=api_key, model="twin", timeout_s=timeout_s)


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> LocalProvider:
    return shared_local_provider(session_model_cache(tmp_path_factory))


@pytest.fixture(scope="module")
def answer(local):
    return local.generate(QUESTION, GREEDY)


@pytest.fixture(scope="module")
def servers(local):
    with serve_chat(local, flavour="tgi") as tgi, serve_chat(local, flavour="openai", api_key=KEY) as openai:
        yield {"tgi": tgi, "openai": openai}


@pytest.fixture(autouse=True)
def hub_offline(monkeypatch):
    # Settings turn the Hub's offline mode on; a self-hosted TGI server must still be reachable.
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_generate_gives_the_local_greedy_answer(flavour, servers, answer, local):
    server = servers[flavour]

    generation = remote_provider(flavour, server.base_url).generate(QUESTION, GREEDY)

    assert generation.text == answer.text and "Paris" in generation.text
    assert generation.model == local.model
    assert (generation.prompt_tokens, generation.completion_tokens) == (answer.prompt_tokens, answer.completion_tokens)
    request = server.requests[-1]
    assert request["messages"] == [{"role": "user", "content": QUESTION[0].content}]
    assert request["max_tokens"] == 16 and request["temperature"] == 0


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_stream_arrives_in_pieces_that_add_up_to_the_local_answer(flavour, servers, answer):
    server = servers[flavour]

    deltas = list(remote_provider(flavour, server.base_url).stream(QUESTION, GREEDY))

    assert len(deltas) > 1
    assert "".join(deltas) == answer.text
    assert server.requests[-1]["stream"] is True


def test_openai_provider_sends_its_model_name_and_key(servers):
    server = servers["openai"]

    remote_provider("openai", server.base_url).generate(QUESTION, GenerationParams(max_tokens=4))

    assert server.requests[-1]["model"] == "twin"  # the server checked the key before answering


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_stop_strings_reach_the_server_and_cut_the_answer(flavour, servers, answer):
    params = GenerationParams(max_tokens=16, stop=("Paris",))
    provider = remote_provider(flavour, servers[flavour].base_url)

    assert provider.generate(QUESTION, params).text == answer.text[: answer.text.index("Paris")]
    assert servers[flavour].requests[-1]["stop"] == ["Paris"]
    assert "".join(provider.stream(QUESTION, params)) == answer.text[: answer.text.index("Paris")]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_refused_connection_is_unavailable_and_names_the_url(flavour):
    url = unused_url()
    provider = remote_provider(flavour, url)

    with pytest.raises(ProviderUnavailable, match="cannot be reached") as caught:
        provider.generate(QUESTION, GREEDY)
    assert url in str(caught.value)
    with pytest.raises(ProviderUnavailable, match="cannot be reached"):
        list(provider.stream(QUESTION, GREEDY))


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_server_too_slow_to_answer_is_unavailable(flavour, local):
    with serve_chat(local, flavour=flavour, api_key=KEY if flavour == "openai" else "", delay_s=2) as slow:
        provider = remote_provider(flavour, slow.base_url, timeout_s=0.5)
        params = GenerationParams(max_tokens=2)  # what the server generates once its client has gone

        with pytest.raises(ProviderUnavailable, match=r"did not answer within 0\.5 s") as caught:
            provider.generate(QUESTION, params)
        assert slow.base_url in str(caught.value)
        with pytest.raises(ProviderUnavailable, match="did not answer"):
            list(provider.stream(QUESTION, params))


@pytest.mark.parametrize("status", [500, 503, 429])
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_failing_or_overloaded_server_is_unavailable(flavour, status, local):
    with serve_chat(local, flavour=flavour, fail_status=status) as failing:
        provider = remote_provider(flavour, failing.base_url)

        with pytest.raises(ProviderUnavailable, match=f"HTTP {status}") as caught:
            provider.generate(QUESTION, GREEDY)
        assert failing.base_url in str(caught.value) and "overloaded" in str(caught.value)
        with pytest.raises(ProviderUnavailable, match=f"HTTP {status}"):
            list(provider.stream(QUESTION, GREEDY))


@pytest.mark.parametrize(("flavour", "status"), [("tgi", 422), ("openai", 400)])
def test_a_request_the_model_cannot_take_is_a_bad_request(flavour, status, servers):
    provider = remote_provider(flavour, servers[flavour].base_url)
    too_long = GenerationParams(max_tokens=100_000)

    with pytest.raises(ProviderError, match=f"HTTP {status}.*too long") as caught:
        provider.generate(QUESTION, too_long)
    assert not isinstance(caught.value, ProviderUnavailable)
    with pytest.raises(ProviderError, match="too long") as caught:
        list(provider.stream(QUESTION, too_long))
    assert not isinstance(caught.value, ProviderUnavailable)


def test_a_wrong_api_key_is_a_bad_request_that_never_shows_the_key(servers):
    wrong = "sk-wrong-5e1d"
    provider = remote_provider("openai", servers["openai"].base_url, api_key=wrong)

    with pytest.raises(ProviderError, match="HTTP 401") as caught:
        provider.generate(QUESTION, GREEDY)

    assert not isinstance(caught.value, ProviderUnavailable)
    assert "Incorrect API key" in str(caught.value) and wrong not in str(caught.value)


def test_remote_providers_leave_token_counting_to_the_server(servers):
    assert remote_provider("tgi", servers["tgi"].base_url).count_tokens("Paris") is None
    assert remote_provider("openai", servers["openai"].base_url).count_tokens("Paris") is None


def test_hub_token_of_the_process_is_not_sent_to_the_tgi_server(servers, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_personal_token_of_the_operator")
    server = servers["tgi"]

    remote_provider("tgi", server.base_url).generate(QUESTION, GenerationParams(max_tokens=2))

    assert "authorization" not in server.headers[-1]
