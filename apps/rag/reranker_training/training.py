"""Fine-tuning a cross-encoder with sentence-transformers' CrossEncoderTrainer, on CPU, seeded.

The base is the packaged all-MiniLM-L6-v2: its encoder is loaded as a sequence classifier with one output
and a freshly initialised (seeded) head. The loss is binary cross-entropy on labelled pairs, not a
listwise loss: the rerank node reads the sigmoid of the score as a probability and compares it with a
relevance threshold, and BCE is what makes that probability mean something. ``pos_weight`` balances the
one positive against its negatives.
"""

import contextlib
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from apps.rag.reranker_training.pairs import TrainingPair

# Tokens of question + passage together: the encoder's whole position range (max_position_embeddings 512;
# longer fails). Chunks are at most 254 tokens, so a question of up to ~250 tokens never cuts the passage.
# The saved model keeps this limit, so the rerank node reads the same.
MAX_LENGTH = 512


def base_cross_encoder(path: Path, *, seed: int):
    """The model to start from, with the same classifier head for the same seed."""
    import transformers
    from sentence_transformers.cross_encoder import CrossEncoder

    transformers.set_seed(seed)
    return CrossEncoder(str(path), num_labels=1, max_length=MAX_LENGTH, device="cpu", local_files_only=True)


def cross_encoder_fine_tune(
    model,
    pairs: Sequence[TrainingPair],
    *,
    epochs: float,
    batch_size: int,
    learning_rate: float,
    negatives_per_positive: float,
    seed: int,
    show_progress: bool,
) -> float:
    """Train ``model`` in place on the pairs; returns the mean training loss."""
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    dataset = Dataset.from_dict(
        {
            "query": [pair.query for pair in pairs],
            "passage": [pair.passage for pair in pairs],
            "label": [pair.label for pair in pairs],
        }
    )
    loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(max(negatives_per_positive, 1.0)))
    with tempfile.TemporaryDirectory(prefix="reranker-train-") as scratch:
        args = CrossEncoderTrainingArguments(
            output_dir=scratch,  # nothing is saved there: the caller saves the model it registers
            num_train_epochs=epochs,
            per_device_train_batch_size=batch_size,
            learning_rate=learning_rate,
            warmup_steps=0.1,  # a float: a fraction of the steps
            weight_decay=0.01,
            seed=seed,
            data_seed=seed,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="epoch",
            report_to="none",
            use_cpu=True,
            dataloader_num_workers=0,
            disable_tqdm=not show_progress,
        )
        trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=loss)
        # The trainer prints its logs on stdout; they are progress, and stdout is kept for the results.
        with contextlib.redirect_stdout(sys.stderr):
            result = trainer.train()
    model.eval()
    return float(result.training_loss)
