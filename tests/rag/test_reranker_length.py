"""The cross-encoder reads a whole chunk with its question: nothing of a 254-token passage is cut at rerank time."""

import torch

from apps.rag.reranker_training.training import MAX_LENGTH, base_cross_encoder
from lib.packaged_models import packaged_minilm_path

QUESTION = "How do you check that a backup can really be restored?"


def _passage_of(tokenizer, size: int) -> str:
    """A passage of exactly `size` word pieces, as long as the chunker's longest chunk."""
    words = ("restore drill nightly archiving " * size).split()
    return tokenizer.convert_tokens_to_string(tokenizer.tokenize(" ".join(words))[:size])


def test_a_question_and_a_full_chunk_fit_the_cross_encoder_uncut(tmp_path):
    model = base_cross_encoder(packaged_minilm_path(), seed=13)
    tokenizer = model.tokenizer
    passage = _passage_of(tokenizer, 254)
    assert len(tokenizer.tokenize(passage)) == 254 and len(tokenizer.tokenize(QUESTION)) == 12

    encoded = tokenizer([[QUESTION, passage]], truncation=True, max_length=model.max_seq_length)["input_ids"][0]

    assert len(encoded) == 12 + 254 + 3  # [CLS] question [SEP] passage [SEP]: nothing cut
    assert MAX_LENGTH == model.config.max_position_embeddings == 512  # the encoder's whole range, no more
    model.save(str(tmp_path / "reranker"))
    from sentence_transformers.cross_encoder import CrossEncoder

    served = CrossEncoder(str(tmp_path / "reranker"), device="cpu", local_files_only=True)
    assert served.max_seq_length == 512  # what the rerank node loads keeps the limit
    score = served.predict([(QUESTION, passage)], activation_fn=torch.nn.Sigmoid(), show_progress_bar=False)
    assert 0 < float(score[0]) < 1
