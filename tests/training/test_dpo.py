"""DPO of the real packaged SmolLM2-135M on a tiny preference export: the loss falls from ln 2 and the margin grows."""

import math

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.training.exports import TOPICS, preference_rows, write_export
from tests.training.test_sft import answer_nlls
from training.dpo import DpoConfig, run_dpo


@pytest.fixture(scope="module")
def dpo_run(smollm2_dir, tmp_path_factory):
    """Three steps over four pairs (the third revisits the first batch), from SmolLM2 as the 'SFT model'."""
    tmp_path = tmp_path_factory.mktemp("dpo")
    dataset = write_export(tmp_path, "preference", preference_rows(0, 4), preference_rows(10, 12))
    config = DpoConfig(
        dataset_dir=dataset,
        output_dir=tmp_path / "twin-dpo",
        model=str(smollm2_dir),
        learning_rate=5e-4,
        beta=0.1,
        batch_size=2,
        max_length=128,
        max_steps=3,
        epochs=2,
    )
    return run_dpo(config)


def test_preference_loss_falls_below_chance(dpo_run):
    # Step 1 runs with the policy equal to its reference: the DPO loss is exactly ln 2 there.
    assert dpo_run.first_loss == pytest.approx(math.log(2), abs=1e-3)
    assert dpo_run.final_loss < 0.5
    assert dpo_run.steps == 3
    assert dpo_run.metrics["rewards/margins"] > 0


def test_output_prefers_the_authors_answer_more_than_the_start_model(dpo_run, smollm2_dir):
    question, chosen, rejected = TOPICS[0]

    def margin(model_dir) -> float:
        chosen_nll, rejected_nll = answer_nlls(model_dir, [(question, chosen), (question, rejected)])
        return rejected_nll - chosen_nll

    assert not list(dpo_run.output_dir.glob("adapter_*"))
    AutoModelForCausalLM.from_pretrained(dpo_run.output_dir)
    assert AutoTokenizer.from_pretrained(dpo_run.output_dir).chat_template
    assert margin(dpo_run.output_dir) > margin(smollm2_dir) + 0.1
