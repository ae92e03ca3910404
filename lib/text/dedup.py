"""Near-duplicate documents: MinHash signatures over word shingles, and an LSH index to find them.

The same post syndicated on two sites differs in boilerplate, whitespace and small edits, so the
exact content hash misses it. MinHash estimates the Jaccard similarity of two texts' sets of word
n-grams; LSH banding finds the candidates without comparing every pair.

Signatures are lists of ints below 2**31 (JSON-safe for a JSONField) and the same in every process:
shingles are hashed with BLAKE2b and the permutations derive from fixed labels, never from hash().
"""

import functools
import hashlib
import re
from collections.abc import Sequence

import numpy as np

from lib.errors import TwinsiteError

_PRIME = (1 << 31) - 1  # Mersenne prime: every signature value is below it
_EMPTY = _PRIME  # the value of every slot for a text without words (no real shingle hashes to it)
_WORD = re.compile(r"\w+")
_BLOCK = 4096  # shingles hashed per numpy step


@functools.cache
def _permutations(num_perm: int) -> tuple[tuple[int, int], ...]:
    """The (a, b) of each hash (a*x + b) mod p; the first n are the same for any num_perm >= n."""
    pairs = []
    for index in range(num_perm):
        digest = hashlib.blake2b(f"twinsite-minhash-{index}".encode(), digest_size=8).digest()
        pairs.append((int.from_bytes(digest[:4]) % (_PRIME - 1) + 1, int.from_bytes(digest[4:]) % _PRIME))
    return tuple(pairs)


def minhash_signature(text: str, *, num_perm: int = 128, shingle: int = 5) -> list[int]:
    """MinHash of the text's word n-grams: case, punctuation and whitespace do not matter."""
    if num_perm < 1 or shingle < 1:
        raise TwinsiteError("A MinHash signature needs at least one permutation and one word per shingle.")
    words = _WORD.findall(text.casefold())
    if not words:
        return [_EMPTY] * num_perm
    shingles = {" ".join(words[start : start + shingle]) for start in range(max(1, len(words) - shingle + 1))}
    hashes = np.fromiter(
        (int.from_bytes(hashlib.blake2b(item.encode(), digest_size=4).digest()) for item in shingles),
        dtype=np.uint64,
        count=len(shingles),
    )
    a, b = _permutation_arrays(num_perm)
    signature = np.full(num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
    # a < 2**31 and a hash < 2**32, so a*hash + b < 2**64: exact in uint64. Blocks bound the memory.
    for start in range(0, len(hashes), _BLOCK):
        block = hashes[start : start + _BLOCK]
        signature = np.minimum(signature, ((a[:, None] * block[None, :] + b[:, None]) % _PRIME).min(axis=1))
    return [int(value) for value in signature]


@functools.cache
def _permutation_arrays(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.array(_permutations(num_perm), dtype=np.uint64)
    return pairs[:, 0], pairs[:, 1]


def estimated_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """The share of slots where two signatures agree: an estimate of their texts' shingle Jaccard."""
    if len(a) != len(b) or not a:
        raise TwinsiteError(f"Signatures of {len(a)} and {len(b)} values cannot be compared.")
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def lsh_bands(signature: Sequence[int], *, bands: int = 32) -> list[int]:
    """One signed 64-bit key per band of the signature, for an index lookup of candidates.

    Two documents sharing any key are candidates, then scored on their full signatures. The
    default 32 bands of 4 rows make a pair at Jaccard 0.8 a candidate with probability
    1 - (1 - 0.8**4)**32 > 0.9999999, at 0.5 about 0.87, at 0.2 about 0.05.
    """
    if bands < 1 or len(signature) % bands:
        raise TwinsiteError(f"{len(signature)} permutations cannot be cut into {bands} equal bands.")
    rows = len(signature) // bands
    keys = []
    for band in range(bands):
        values = ",".join(str(v) for v in signature[band * rows : (band + 1) * rows])
        digest = hashlib.blake2b(f"{band}:{values}".encode(), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys
