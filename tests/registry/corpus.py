"""An author's approved training data in the database: one document per topic, samples approved, pairs labeled."""

from apps.sources.models import Author
from apps.trainsets.models import Review
from tests.factories import make_author, make_document, make_source
from tests.training.exports import AUTHOR, TOPICS
from tests.trainsets.factories import make_label, make_pair, make_sample


def approved_corpus(*, annotator, topics: int = len(TOPICS), pairs: int = 8) -> Author:
    """Ada's samples (her answers in her voice), each on its own document; the first `pairs` get a labeled pair."""
    author = make_author(name=AUTHOR)
    source = make_source(author=author)
    for n, (question, answer, bland) in enumerate(TOPICS[:topics]):
        document = make_document(source=source, text=answer)
        sample = make_sample(document=document, extract=answer, instruction=question, review=Review.APPROVED)
        if n < pairs:
            make_label(pair=make_pair(sample=sample, rejected=bland), annotator=annotator, prefers="chosen")
    return author
