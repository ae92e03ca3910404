"""The encoder in either precision: bf16 vectors stand in for fp32 ones."""

import numpy as np

from apps.documents.embedding import Embedder, model_path

TEXTS = [
    "How do I put a package on hold so apt stops upgrading it?",
    "Conffiles are configuration files that the package manager will not overwrite on upgrade.",
    "dpkg --search foo finds which installed package a file came from.",
    "The stable distribution only gets security updates after its release.",
]


def test_bf16_vectors_are_the_fp32_vectors_to_three_decimals():
    """The encoder in bf16 (where autocast runs it natively or not) stays interchangeable with fp32."""
    fp32 = np.array(Embedder(model_path(), model_id="m", batch_size=8, precision="fp32").encode(TEXTS))
    bf16 = np.array(Embedder(model_path(), model_id="m", batch_size=8, precision="bf16").encode(TEXTS))
    assert bf16.dtype == np.float64 and bf16.shape == (4, 384)  # plain floats, as pgvector takes them
    cosines = (fp32 * bf16).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
