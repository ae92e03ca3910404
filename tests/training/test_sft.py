"""SFT of the real packaged SmolLM2-135M on a tiny instruct export: the loss falls and the merged model serves."""

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from apps.rag.providers import ChatMessage, GenerationParams
from apps.rag.providers.local import LocalProvider
from tests.training.exports import SYSTEM, TOPICS, instruct_rows, write_export
from training.sft import SftConfig, run_sft

QUESTION, ANSWER, _ = TOPICS[0]


@pytest.fixture(scope="module")
def sft_run(smollm2_dir, tmp_path_factory):
    """Three steps at a high learning rate over six rows (two epochs' worth of packed rows), logged to a list."""
    tmp_path = tmp_path_factory.mktemp("sft")
    dataset = write_export(tmp_path, "instruct", instruct_rows(0, 6), instruct_rows(10, 12))
    logs: list[dict] = []
    config = SftConfig(
        dataset_dir=dataset,
        output_dir=tmp_path / "twin-sft",
        base_model=str(smollm2_dir),
        learning_rate=1e-3,
        batch_size=2,
        max_length=128,
        max_steps=3,
        epochs=2,
    )
    return run_sft(config, on_log=logs.append), logs


def answer_nlls(model_dir, pairs: list[tuple[str, str]]) -> list[float]:
    """Mean negative log-likelihood of each answer's tokens after its chat prompt, under the model in model_dir."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    losses = []
    for question, answer in pairs:
        prompt = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
        prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_dict=True)["input_ids"]
        full = tokenizer.apply_chat_template([*prompt, {"role": "assistant", "content": answer}], return_dict=True)
        ids = torch.tensor([full["input_ids"]])
        labels = ids.clone()
        labels[:, : len(prompt_ids)] = -100
        with torch.no_grad():
            losses.append(model(input_ids=ids, labels=labels).loss.item())
    return losses


def test_loss_falls_and_every_step_is_reported(sft_run):
    result, logs = sft_run

    assert result.steps == 3
    assert [point["step"] for point in result.loss_curve] == [1, 2, 3]
    assert result.final_loss < result.first_loss * 0.85
    step_logs = [log for log in logs if "loss" in log]
    assert [(log["step"], log["max_steps"]) for log in step_logs] == [(1, 3), (2, 3), (3, 3)]
    assert result.config["trainer"]["packing"] is True
    json.dumps(result.config)  # the registry stores it as JSON


def test_output_is_a_standalone_model_that_generates(sft_run, smollm2_dir):
    result, _ = sft_run
    out = result.output_dir

    assert not list(out.glob("adapter_*")), "LoRA must be merged, not saved as an adapter"
    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    assert tokenizer.chat_template == AutoTokenizer.from_pretrained(smollm2_dir).chat_template
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": QUESTION}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    generated = model.generate(**prompt, max_new_tokens=4, do_sample=False)
    assert tokenizer.decode(generated[0, prompt["input_ids"].shape[1] :], skip_special_tokens=True).strip()


def test_merged_weights_carry_what_was_learned(sft_run, smollm2_dir):
    result, _ = sft_run

    [trained], [base] = (
        answer_nlls(result.output_dir, [(QUESTION, ANSWER)]),
        answer_nlls(smollm2_dir, [(QUESTION, ANSWER)]),
    )

    assert trained < base - 0.2


def test_serving_renders_the_same_prompt_as_the_base_template(sft_run, smollm2_dir, tmp_path):
    result, _ = sft_run
    messages = [ChatMessage("system", SYSTEM), ChatMessage("user", QUESTION)]
    base_prompt = AutoTokenizer.from_pretrained(smollm2_dir).apply_chat_template(
        [{"role": m.role, "content": m.content} for m in messages], add_generation_prompt=True, tokenize=False
    )

    provider = LocalProvider(result.output_dir, cache_dir=tmp_path)
    served = provider.tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in messages], add_generation_prompt=True, tokenize=False
    )
    generation = provider.generate(messages, GenerationParams(max_tokens=1))

    assert served == base_prompt
    assert generation.prompt_tokens == provider.count_tokens(base_prompt)
