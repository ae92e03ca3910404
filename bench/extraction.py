"""Main-content extraction through the crawl path against trafilatura's own, on a public benchmark.

The ScrapingHub article-extraction-benchmark (181 real article pages, HTML and hand-made
``articleBody``): its pages are read from a local checkout, never committed here. Scored as the
benchmark scores (F1 of word 4-shingles, precision and recall averaged over pages):
- ``crawl_path``: apps.sources.crawlers.extract.extract_article, what a crawl stores, its
  Markdown-like markers dropped by the word tokenizer;
- ``trafilatura``: trafilatura.extract with its default settings (comments off, as ours);
and how many pages each returned nothing for. The benchmark's bodies leave the headline out, and
trafilatura.extract leaves it out of its text too; the crawl path opens the text with it as a ``#``
heading (it prefixes the chunks). That one line is not scored (``--score-title`` scores it).

    .venv/bin/python bench/extraction.py --benchmark /path/to/article-extraction-benchmark [--limit N]

Prints JSON.
"""

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter:
    words = _WORD.findall(text or "")
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)) if words[i : i + n])


def page_scores(true: str, predicted: str) -> tuple[float | None, float | None]:
    want, got = shingles(true), shingles(predicted)
    tp = sum((want & got).values())
    fp, fn = sum(got.values()) - tp, sum(want.values()) - tp
    if fp == fn == 0:
        return 1.0, 1.0
    precision = None if tp + fp == 0 else tp / (tp + fp)
    recall = None if tp + fn == 0 else tp / (tp + fn)
    return precision, recall


def without_headline(text: str, title: str) -> str:
    """The text without its first line when that line is the page's title as a heading."""
    first, _, rest = text.partition("\n")
    return rest.lstrip("\n") if title and first.lstrip("# ").strip() == title.strip() else text


def summary(scores: list[tuple[float | None, float | None]], empty: int, seconds: float) -> dict:
    precision = statistics.mean(p for p, _ in scores if p is not None)
    recall = statistics.mean(r for _, r in scores if r is not None)
    return {
        "f1": round(2 * precision * recall / (precision + recall), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "pages_without_text": empty,
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", type=Path, required=True, help="a checkout of article-extraction-benchmark")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--score-title", action="store_true", help="score the crawl path's headline line too")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twinsite.settings")
    sys.path.insert(0, str(ROOT))
    import trafilatura

    from apps.sources.crawlers.extract import extract_article

    truth = json.loads((args.benchmark / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[: args.limit or None]
    results = {}
    for name in ("crawl_path", "trafilatura"):
        scores, empty, seconds = [], 0, 0.0
        for key in keys:
            html = gzip.decompress((args.benchmark / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8", "replace")
            url = truth[key].get("url") or "https://example.org/"
            started = time.perf_counter()
            if name == "crawl_path":
                page = extract_article(html, url=url)
                text = page.text if page is not None else ""
                if page is not None and not args.score_title:
                    text = without_headline(text, page.title)
            else:
                text = trafilatura.extract(html, url=url, include_comments=False) or ""
            seconds += time.perf_counter() - started
            empty += not text.strip()
            scores.append(page_scores(truth[key].get("articleBody", ""), text))
        results[name] = summary(scores, empty, seconds)
    print(json.dumps({"pages": len(keys), **results, "load_average": [round(v, 2) for v in os.getloadavg()]}, indent=2))


if __name__ == "__main__":
    main()
