"""A small real blog written to disk, to be served over HTTP and crawled."""

import html
from pathlib import Path

from apps.documents.services import chunks_embed_pending, document_process
from apps.sources.crawling import crawl_run_execute
from apps.sources.models import CrawlRun, Source
from apps.sources.services import crawl_run_create

TOPICS = [
    "Retrieval works best when every chunk can stand on its own, with its heading kept beside it.",
    "A twin that answers in its author's voice needs their own words, not a summary of them.",
    "Incremental ingestion means an unchanged page costs nothing on the next crawl.",
    "Vectors without the name of the model that made them are a trap waiting to be sprung.",
    "Full-text search still wins on rare names, code identifiers and exact error messages.",
    "Curation is where a person decides what the twin may learn from and what it must forget.",
]


def paragraphs(seed: int, count: int = 6) -> list[str]:
    """Distinct, readable paragraphs (several sentences each) for post number `seed`."""
    return [
        " ".join(f"Post {seed}, part {i}, point {j}: {TOPICS[(seed + i + j) % len(TOPICS)]}" for j in range(7))
        for i in range(count)
    ]


def post_html(title: str, body: list[str], *, code: str = "") -> str:
    paras = "\n".join(f"<p>{html.escape(p)}</p>" for p in body)
    code_block = f"<pre><code>{html.escape(code)}</code></pre>" if code else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="author" content="Ada Example"><meta property="article:published_time" content="2025-03-04T10:00:00Z">
</head><body>
<nav><a href="index.html">Home</a></nav>
<article><h1>{html.escape(title)}</h1>
<h2>Why it matters</h2>
{paras}
{code_block}
</article>
<footer>Copyright Ada Example. Subscribe to the newsletter.</footer>
</body></html>"""


def write_blog(folder: Path, posts: dict[str, tuple[str, list[str]]]) -> None:
    """index.html links to every post; each post is a full page with nav and footer."""
    folder.mkdir(parents=True, exist_ok=True)
    links = "\n".join(f'<li><a href="{slug}.html">{html.escape(title)}</a></li>' for slug, (title, _) in posts.items())
    (folder / "index.html").write_text(
        f"<!doctype html><html><head><title>Ada's blog</title></head><body><h1>Ada's blog</h1>"
        f"<p>Essays on building software twins, written over several years.</p><ul>{links}</ul></body></html>",
        encoding="utf-8",
    )
    for slug, (title, body) in posts.items():
        (folder / f"{slug}.html").write_text(post_html(title, body), encoding="utf-8")


def default_posts() -> dict[str, tuple[str, list[str]]]:
    return {f"post-{n}": (f"Essay number {n}", paragraphs(n)) for n in range(1, 4)}


def crawl(source: Source) -> tuple[CrawlRun, int]:
    """One crawl, as the workers run it; returns the run and how many chunks were embedded."""
    changed: list[int] = []
    run = crawl_run_execute(run_id=crawl_run_create(source=source).pk, on_document=changed.append)
    for document_id in changed:
        document_process(document_id=document_id)
    return run, chunks_embed_pending()


def run_once(source: Source) -> CrawlRun:
    """One crawl, documents stored but not processed."""
    return crawl_run_execute(run_id=crawl_run_create(source=source).pk, on_document=lambda _id: None)
