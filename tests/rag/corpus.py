"""A small crawled corpus on three clearly different topics, for graph tests."""

from pathlib import Path

from apps.sources.models import Author, Source
from tests.sources.blog import crawl, write_blog

POSTS = {
    "backups": (
        "How I back up PostgreSQL",
        [
            "Every night a cron job runs pg_dump against the replica, never the primary, so backups never slow "
            "down the users. The dump is compressed with zstd and copied to object storage in another region.",
            "Once a month I restore the latest dump into a scratch server and run the test suite against it. "
            "A backup that was never restored is only a hope, and I have learned that the hard way.",
            "Point-in-time recovery comes from archiving the write-ahead log with wal-g. With the base backup and "
            "the archived WAL I can bring the database back to any second of the last fourteen days.",
        ],
    ),
    "sourdough": (
        "My sourdough routine",
        [
            "I feed the starter with equal weights of rye flour and water every evening, and it doubles by "
            "morning when the kitchen stays warm.",
            "The dough rests for an hour after mixing before I add the salt, then gets four sets of stretch and "
            "folds, thirty minutes apart, before it proofs overnight in the fridge.",
            "I bake in a cast iron pot at 250 degrees, twenty minutes with the lid on and twenty-five without, "
            "until the crust is deep brown and sounds hollow.",
        ],
    ),
    "cycling": (
        "Cycling over the Alps",
        [
            "The Stelvio pass has forty-eight hairpin bends on its eastern side, and I climbed it in a little "
            "under three hours with a compact crank and a 34-tooth cassette.",
            "On long climbs I eat something every forty minutes, before I feel hungry, because once the legs "
            "are empty no gel brings them back before the summit.",
            "Descending is where the danger is: brake before the bend, not in it, and look where you want to go.",
        ],
    ),
}


def crawl_corpus(folder: Path, base_url: str, *, author_name: str = "Ada Example") -> Source:
    author = Author.objects.create(name=author_name, aliases=["Ada"])
    source = Source.objects.create(author=author, kind="site", url=f"{base_url}/index.html")
    crawl(source)
    return source


def write_corpus(folder: Path) -> None:
    write_blog(folder, POSTS)
