"""A tiny causal LM on disk, written without torch: a one-layer Llama of random weights and a word-level tokenizer.

Enough for the trainer to take real steps and save a real model in a second, where the test is about what
happens around training (a failed save, the registry), not about what the model learns.
"""

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from tests.training.exports import SYSTEM, TOPICS

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
HIDDEN, INTERMEDIATE, HEAD_DIM, HEADS, KV_HEADS = 64, 128, 32, 2, 1


def _tokenizer_write(directory: Path) -> int:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["[UNK]", "<|pad|>", "<|im_start|>", "<|im_end|>"]
    texts = [SYSTEM, "system user assistant", *(text for topic in TOPICS for text in topic)]
    tokenizer.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=specials))
    tokenizer.save(str(directory / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "chat_template": CHATML, "unk_token": "[UNK]"}
    config |= {"pad_token": "<|pad|>", "eos_token": "<|im_end|>", "bos_token": None}
    (directory / "tokenizer_config.json").write_text(json.dumps(config))
    return tokenizer.get_vocab_size()


def tiny_model_write(directory: Path) -> Path:
    directory.mkdir(parents=True)
    vocab = _tokenizer_write(directory)
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": vocab,
        "hidden_size": HIDDEN,
        "intermediate_size": INTERMEDIATE,
        "num_hidden_layers": 1,
        "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS,
        "head_dim": HEAD_DIM,
        "max_position_embeddings": 512,
        "tie_word_embeddings": True,
        "pad_token_id": 1,
        "eos_token_id": 3,
        "torch_dtype": "float32",
    }
    (directory / "config.json").write_text(json.dumps(config))
    rng = np.random.default_rng(0)
    shapes = {
        "model.embed_tokens.weight": (vocab, HIDDEN),
        "model.layers.0.self_attn.q_proj.weight": (HEADS * HEAD_DIM, HIDDEN),
        "model.layers.0.self_attn.k_proj.weight": (KV_HEADS * HEAD_DIM, HIDDEN),
        "model.layers.0.self_attn.v_proj.weight": (KV_HEADS * HEAD_DIM, HIDDEN),
        "model.layers.0.self_attn.o_proj.weight": (HIDDEN, HEADS * HEAD_DIM),
        "model.layers.0.mlp.gate_proj.weight": (INTERMEDIATE, HIDDEN),
        "model.layers.0.mlp.up_proj.weight": (INTERMEDIATE, HIDDEN),
        "model.layers.0.mlp.down_proj.weight": (HIDDEN, INTERMEDIATE),
    }
    weights = {name: (rng.standard_normal(shape) * 0.02).astype(np.float32) for name, shape in shapes.items()}
    for norm in ("model.layers.0.input_layernorm", "model.layers.0.post_attention_layernorm", "model.norm"):
        weights[f"{norm}.weight"] = np.ones(HIDDEN, dtype=np.float32)
    save_file(weights, str(directory / "model.safetensors"), metadata={"format": "pt"})
    return directory
