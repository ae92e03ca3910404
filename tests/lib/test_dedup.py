"""Near-duplicate detection: a syndicated copy of a post is found, other writing by the same author is not."""

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lib.errors import TwinsiteError
from lib.text.dedup import estimated_jaccard, lsh_bands, minhash_signature

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "text"
ROOT = Path(__file__).resolve().parent.parent.parent
VECTOR_SEARCH = (FIXTURES / "article_vector_search.md").read_text()
BACKUPS = (FIXTURES / "article_postgres_backups.md").read_text()


def syndicated(text: str) -> str:
    """The same post as another site shows it: its own boilerplate, reflowed lines, an edit or two."""
    edited = text.replace("It took three days", "It took four days").replace("badly wrong", "very wrong")
    edited = edited.replace("surprised me,\nin the order", "surprised  me, in the order").replace("\n\n", "\n\n\n")
    header = "Cross-posted from my blog. Subscribe to get new posts by email!\n\n"
    footer = "\n\nShare this post: Twitter, LinkedIn, Hacker News. Comments are closed."
    return header + edited.upper() + footer


def exact_jaccard(a: str, b: str, shingle: int = 5) -> float:
    def shingles(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"\w+", text.casefold())
        return {tuple(words[i : i + shingle]) for i in range(len(words) - shingle + 1)}

    first, second = shingles(a), shingles(b)
    return len(first & second) / len(first | second)


def random_post(generator: random.Random) -> str:
    vocabulary = VECTOR_SEARCH.split() + BACKUPS.split()  # same author, same words, different posts
    return " ".join(generator.choices(vocabulary, k=generator.randint(150, 400)))


def test_a_syndicated_copy_scores_as_a_near_duplicate():
    copy = syndicated(VECTOR_SEARCH)
    similarity = estimated_jaccard(minhash_signature(VECTOR_SEARCH), minhash_signature(copy))
    assert similarity >= 0.8
    assert abs(similarity - exact_jaccard(VECTOR_SEARCH, copy)) < 0.1  # the estimate tracks the real overlap


def test_different_posts_by_the_same_author_score_low():
    similarity = estimated_jaccard(minhash_signature(VECTOR_SEARCH), minhash_signature(BACKUPS))
    assert similarity < 0.1


def test_signatures_are_json_ints_and_the_same_in_another_process():
    signature = minhash_signature(VECTOR_SEARCH)
    assert len(signature) == 128 and all(isinstance(v, int) and 0 <= v < 2**31 for v in signature)
    assert json.loads(json.dumps(signature)) == signature
    script = (
        "import json, sys; from lib.text.dedup import minhash_signature; "
        "print(json.dumps(minhash_signature(sys.stdin.read())))"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script], input=VECTOR_SEARCH, capture_output=True, text=True, env=environment, check=True
    )
    assert json.loads(result.stdout) == signature


def test_fewer_permutations_give_a_prefix_of_the_signature():
    assert minhash_signature(BACKUPS, num_perm=64) == minhash_signature(BACKUPS)[:64]


def candidates(bands: list[int], index: dict[str, set[int]]) -> list[str]:
    return [key for key, keys in index.items() if keys & set(bands)]


def test_band_keys_find_the_duplicate_among_many_posts():
    """What the GIN index on Document.minhash_bands does: shared band keys make candidates."""
    generator = random.Random(11)
    posts = {f"post-{n}": random_post(generator) for n in range(200)}
    posts |= {"vector-search": VECTOR_SEARCH, "backups": BACKUPS}
    signatures = {key: minhash_signature(text) for key, text in posts.items()}
    index = {key: set(lsh_bands(signature)) for key, signature in signatures.items()}

    copy = minhash_signature(syndicated(VECTOR_SEARCH))
    found = [key for key in candidates(lsh_bands(copy), index) if estimated_jaccard(copy, signatures[key]) >= 0.8]
    assert found == ["vector-search"]
    unrelated = minhash_signature(random_post(generator))
    assert not [
        k for k in candidates(lsh_bands(unrelated), index) if estimated_jaccard(unrelated, signatures[k]) >= 0.5
    ]


def test_band_keys_are_signed_64_bit_and_stable():
    keys = lsh_bands(minhash_signature(BACKUPS))
    assert len(keys) == 32 and all(-(2**63) <= key < 2**63 for key in keys)
    assert keys == lsh_bands(minhash_signature(BACKUPS))
    assert keys != lsh_bands(minhash_signature(VECTOR_SEARCH))


def test_text_without_words_matches_no_real_text():
    empty = minhash_signature(" \n— … ")
    assert estimated_jaccard(empty, minhash_signature(BACKUPS)) == 0.0
    assert minhash_signature("Short post.") != empty


def test_signatures_of_different_sizes_are_refused():
    with pytest.raises(TwinsiteError):
        estimated_jaccard(minhash_signature(BACKUPS, num_perm=64), minhash_signature(BACKUPS))
    with pytest.raises(TwinsiteError):
        lsh_bands(minhash_signature(BACKUPS), bands=30)
