"""A crawled blog big enough to train a reranker on: ten posts in five pairs of neighbouring topics.

Each pair (two database posts, two bread posts, ...) shares vocabulary, so retrieval for a question about
one post ranks chunks of its neighbour high: those are the hard negatives the reranker must learn to push down.
"""

import html
from pathlib import Path

from apps.sources.models import Author, Source
from tests.sources.blog import crawl

Section = tuple[str, list[str]]  # heading, paragraphs

POSTS: dict[str, tuple[str, list[Section]]] = {
    "backups": (
        "How I back up PostgreSQL",
        [
            (
                "Nightly dumps",
                [
                    "Every night a cron job runs pg_dump against the replica, never the primary. That way the backup "
                    "never slows down the people using the site. The dump is compressed with zstd before it leaves "
                    "the machine.",
                    "The compressed dump is copied to object storage in another region. The bucket keeps thirty "
                    "daily versions and twelve monthly ones. Nobody can delete them for a week, not even me.",
                ],
            ),
            (
                "Restore drills",
                [
                    "Once a month I restore the latest dump into a scratch server. Then the whole test suite runs "
                    "against the restored copy. A backup that was never restored is only a hope.",
                    "Point-in-time recovery comes from archiving the write-ahead log with wal-g. With a base backup "
                    "and the archived WAL I can rewind the database to any second of the last two weeks.",
                ],
            ),
        ],
    ),
    "tuning": (
        "Making slow PostgreSQL queries fast",
        [
            (
                "Reading query plans",
                [
                    "I start every investigation with EXPLAIN ANALYZE and the buffers option. The plan shows where "
                    "the time goes and how many pages were read from disk. Guessing without the plan wastes days.",
                    "A sequential scan over a large table usually means a missing index. A nested loop with millions "
                    "of iterations often means the row estimates are wrong and the statistics are stale.",
                ],
            ),
            (
                "Indexes and vacuum",
                [
                    "A partial index on the rows that are still open made our dashboard query forty times faster. "
                    "It is also much smaller than an index over the whole table.",
                    "Autovacuum falls behind on tables with heavy updates, and dead rows make every scan slower. I "
                    "lowered the scale factor on the busiest tables so that vacuum runs more often.",
                ],
            ),
        ],
    ),
    "sourdough": (
        "My sourdough routine",
        [
            (
                "Feeding the starter",
                [
                    "I feed the starter with equal weights of rye flour and water every evening. It doubles by "
                    "morning when the kitchen stays warm. In winter it sits next to the radiator.",
                    "A starter that smells of nail varnish is hungry, not dead. Two feedings a day for a few days "
                    "bring back the sour, yoghurt smell and the bubbles.",
                ],
            ),
            (
                "Baking the loaf",
                [
                    "The dough rests for an hour after mixing before the salt goes in. Then it gets four sets of "
                    "stretch and folds, thirty minutes apart, and proofs overnight in the fridge.",
                    "I bake in a cast iron pot at 250 degrees, twenty minutes with the lid on and twenty-five "
                    "without. The crust is done when it is deep brown and the loaf sounds hollow.",
                ],
            ),
        ],
    ),
    "pizza": (
        "Neapolitan pizza in a home oven",
        [
            (
                "The dough",
                [
                    "Pizza dough needs very little yeast and a long, cold rise. I mix it two days ahead and keep "
                    "the balls in the fridge in lidded boxes so they do not dry out.",
                    "Tipo 00 flour with sixty-five percent water gives a soft, airy rim. More water makes the "
                    "dough hard to stretch by hand and it tears when I lift it.",
                ],
            ),
            (
                "Getting the oven hot enough",
                [
                    "A home oven only reaches about 280 degrees, so I use a thick steel plate under the grill. "
                    "After an hour of preheating the steel cooks the base in under three minutes.",
                    "Tomatoes go on raw, crushed by hand with a pinch of salt. The mozzarella is torn and drained "
                    "first, otherwise the middle of the pizza turns into soup.",
                ],
            ),
        ],
    ),
    "alps": (
        "Cycling over the Alps",
        [
            (
                "The Stelvio",
                [
                    "The Stelvio pass has forty-eight hairpin bends on its eastern side. I climbed it in a little "
                    "under three hours with a compact crank and a 34-tooth cassette.",
                    "Descending is where the danger is. Brake before the bend, not in it, and look where you want "
                    "to go rather than at the wall.",
                ],
            ),
            (
                "Eating on the climbs",
                [
                    "On long climbs I eat something every forty minutes, before I feel hungry. Once the legs are "
                    "empty, no gel brings them back before the summit.",
                    "Rice cakes wrapped in foil travel better than energy bars in the heat. I carry two bottles and "
                    "refill them at the fountains in every village.",
                ],
            ),
        ],
    ),
    "maintenance": (
        "Looking after a road bike",
        [
            (
                "Chain and gears",
                [
                    "I clean and oil the chain every three hundred kilometres, more often after rain. A checker "
                    "tool tells me when it has stretched and must be replaced before it wears the cassette.",
                    "Gears that skip under load usually need a quarter turn of the barrel adjuster. If that does "
                    "not help, the derailleur hanger is probably bent.",
                ],
            ),
            (
                "Tyres and brakes",
                [
                    "I run tubeless tyres at about five bar, which is softer and faster on rough roads. The sealant "
                    "dries out after a few months, so I top it up every spring.",
                    "Disc brake pads are worn out when less than a millimetre of material is left. Contaminated "
                    "pads squeal and never recover, so I replace them rather than clean them.",
                ],
            ),
        ],
    ),
    "marathon": (
        "Training for my first marathon",
        [
            (
                "The weekly plan",
                [
                    "For sixteen weeks I ran five times a week, with one long run on Sunday. The long run grew by "
                    "two kilometres a week up to thirty-two, with an easier week after every three.",
                    "Most of my running was slow enough to hold a conversation. Only one session a week was fast: "
                    "intervals on the track or a tempo run by the river.",
                ],
            ),
            (
                "Race day",
                [
                    "I started slower than my goal pace and kept the first half steady. The wall came at kilometre "
                    "thirty-four, exactly where the long runs had stopped.",
                    "I took a gel every five kilometres and water at every station. New shoes on race day would "
                    "have been a mistake, so I wore the pair I had trained in.",
                ],
            ),
        ],
    ),
    "espresso": (
        "Dialling in espresso at home",
        [
            (
                "Grind and dose",
                [
                    "I weigh eighteen grams of coffee into the basket and aim for thirty-six grams in the cup. If "
                    "the shot runs faster than twenty-five seconds, the grind goes finer.",
                    "Beans need a week of rest after roasting before they pull a good shot. Fresh beans release so "
                    "much gas that the espresso comes out sour and full of bubbles.",
                ],
            ),
            (
                "Milk and cleaning",
                [
                    "Steaming milk for a flat white takes cold milk and a small jug. The wand stays just below the "
                    "surface until the jug is too hot to hold.",
                    "Once a week I backflush the machine with detergent and soak the portafilter. Scale from hard "
                    "water is what kills machines, so I use filtered water.",
                ],
            ),
        ],
    ),
    "git": (
        "How I use git every day",
        [
            (
                "Small commits",
                [
                    "I commit whenever the tests pass, even after ten minutes of work. Small commits make a bisect "
                    "fast and a revert painless when something breaks in production.",
                    "Before pushing, I tidy the branch with an interactive rebase. Fixup commits are squashed into "
                    "the change they repair so the history tells one story.",
                ],
            ),
            (
                "Reviews",
                [
                    "A pull request should fit in one screen of diff. Big changes are split into a refactoring "
                    "branch first and the behaviour change second.",
                    "I leave review comments as questions rather than orders. The author usually knows something "
                    "about the code that the reviewer does not.",
                ],
            ),
        ],
    ),
    "python": (
        "Packaging a Python library",
        [
            (
                "The project file",
                [
                    "Everything goes into pyproject.toml now, even the tool settings. I pin the build backend and "
                    "let the library's own dependencies float within major versions.",
                    "The version number lives in one place and the package reads it from its metadata at run "
                    "time. Two copies of a version string always drift apart.",
                ],
            ),
            (
                "Releasing",
                [
                    "Releases are built in continuous integration, never on my laptop. The wheel and the source "
                    "archive are uploaded with a trusted publisher, so no token is stored anywhere.",
                    "Before each release I install the built wheel in a fresh virtual environment and import it. "
                    "That catches the data files I forgot to include.",
                ],
            ),
        ],
    ),
}


def post_html(title: str, sections: list[Section]) -> str:
    body = "\n".join(
        f"<h2>{html.escape(heading)}</h2>\n" + "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        for heading, paragraphs in sections
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="author" content="Ada Example"><meta property="article:published_time" content="2025-03-04T10:00:00Z">
</head><body>
<nav><a href="index.html">Home</a></nav>
<article><h1>{html.escape(title)}</h1>
{body}
</article>
<footer>Copyright Ada Example.</footer>
</body></html>"""


def write_reranker_blog(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    links = "\n".join(f'<li><a href="{slug}.html">{html.escape(title)}</a></li>' for slug, (title, _) in POSTS.items())
    (folder / "index.html").write_text(
        f"<!doctype html><html><head><title>Ada's blog</title></head><body><h1>Ada's blog</h1><ul>{links}</ul>"
        "</body></html>",
        encoding="utf-8",
    )
    for slug, (title, sections) in POSTS.items():
        (folder / f"{slug}.html").write_text(post_html(title, sections), encoding="utf-8")


def crawl_reranker_blog(base_url: str) -> Source:
    author = Author.objects.create(name="Ada Example", aliases=["Ada"])
    source = Source.objects.create(author=author, kind="site", url=f"{base_url}/index.html")
    crawl(source)
    return source
