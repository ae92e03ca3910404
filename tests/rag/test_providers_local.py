"""The local provider on the real packaged SmolLM2, converted from its GGUF once per test session."""

import threading
from pathlib import Path

import pytest

from apps.rag.providers import ChatMessage, GenerationParams, ProviderError, ProviderUnavailable
from apps.rag.providers.local import LocalProvider
from lib.errors import ModelUnavailable
from lib.packaged_models import CONVERTED_NAME, packaged_model_dir
from tests.rag.servers import session_model_cache, shared_local_provider

QUESTION = [ChatMessage("user", "What is the capital of France? Answer in one word.")]
GREEDY = GenerationParams(max_tokens=16)


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory) -> Path:
    return session_model_cache(tmp_path_factory)


@pytest.fixture(scope="module")
def local(model_cache) -> LocalProvider:
    return shared_local_provider(model_cache)


@pytest.fixture(scope="module")
def answer(local):
    return local.generate(QUESTION, GREEDY)


def test_greedy_answer_is_coherent_english(local, answer, model_cache):
    assert "Paris" in answer.text
    assert answer.model == local.model == str(model_cache / CONVERTED_NAME)
    assert answer.prompt_tokens and answer.prompt_tokens > local.count_tokens(QUESTION[0].content)
    assert 0 < answer.completion_tokens <= GREEDY.max_tokens


def test_stream_arrives_in_pieces_that_add_up_to_the_generated_text(local, answer):
    deltas = list(local.stream(QUESTION, GREEDY))

    assert len(deltas) > 1
    assert "".join(deltas) == answer.text


def test_stop_string_cuts_the_answer_in_generate_and_stream(local, answer):
    params = GenerationParams(max_tokens=16, stop=("Paris",))

    stopped = local.generate(QUESTION, params).text
    streamed = "".join(local.stream(QUESTION, params))

    assert stopped == answer.text[: answer.text.index("Paris")]
    assert streamed == stopped


def test_concurrent_requests_each_get_the_whole_answer(local, answer):
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(local.generate(QUESTION, GREEDY).text)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [answer.text, answer.text]


def test_converted_model_is_cached_and_reused_without_the_gguf(local, answer, model_cache):
    converted = model_cache / CONVERTED_NAME
    weights = converted / "model.safetensors"
    assert weights.is_file() and (converted / "config.json").is_file() and (converted / "tokenizer.json").is_file()
    before = weights.stat()

    # With the cache in place the GGUF is not even looked for.
    assert packaged_model_dir(model_cache, gguf=Path("/nonexistent/model.gguf")) == converted
    second = LocalProvider(cache_dir=model_cache)

    after = weights.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.name for p in model_cache.iterdir() if not p.name.endswith(".lock")] == [CONVERTED_NAME]
    assert second.generate(QUESTION, GREEDY).text == answer.text


def test_a_failed_conversion_leaves_no_half_written_model(tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    cache = tmp_path / "cache"
    (cache / f".{CONVERTED_NAME}-killed").mkdir(parents=True)  # what a conversion killed midway leaves

    with pytest.raises(ModelUnavailable, match="could not be converted") as caught:
        packaged_model_dir(cache, gguf=broken)

    assert str(broken) in str(caught.value)
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []


def test_a_missing_model_directory_is_unavailable(tmp_path):
    with pytest.raises(ProviderUnavailable, match="does not exist") as caught:
        LocalProvider(tmp_path / "no-such-model", cache_dir=tmp_path)
    assert str(tmp_path / "no-such-model") in str(caught.value)


def test_a_corrupt_model_directory_is_unavailable(tmp_path, local, model_cache):
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        (corrupt / name).write_text((model_cache / CONVERTED_NAME / name).read_text())
    (corrupt / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")

    with pytest.raises(ProviderUnavailable, match="could not be loaded") as caught:
        LocalProvider(corrupt, cache_dir=tmp_path)
    assert str(corrupt) in str(caught.value)


def test_a_prompt_too_long_for_the_model_is_a_bad_request(local):
    params = GenerationParams(max_tokens=9000)  # SmolLM2 reads 8192 tokens at most

    with pytest.raises(ProviderError, match="too long") as caught:
        local.generate(QUESTION, params)
    assert not isinstance(caught.value, ProviderUnavailable)
    with pytest.raises(ProviderError, match="too long"):
        list(local.stream(QUESTION, params))


def test_count_tokens_counts_with_the_served_tokenizer(local):
    one = local.count_tokens("The capital of France is Paris.")
    two = local.count_tokens("The capital of France is Paris. The capital of Italy is Rome.")

    assert local.count_tokens("") == 0
    assert 0 < one < two


def test_a_stream_its_reader_leaves_stops_generating_before_it_closes(local):
    # The graph leaves a stream when the answer's sentences fail the check. The generation must end with the
    # stream: a forward pass still running when a command's process exits aborts it (torch, in C++).
    stream = local.stream(QUESTION, GenerationParams(max_tokens=200))
    next(stream)
    stream.close()

    assert [t.name for t in threading.enumerate() if t.name == "local-generation"] == []
