"""The Debian FAQ (Debian package debian-faq) as a benchmark corpus: its pages, and its questions with the
FAQ authors' own answers as references. Shared by bench/rag.py and bench/rag_answers.py.
"""

import random
import re
from pathlib import Path

FAQ = Path("/usr/share/doc/debian/FAQ")
_NUMBERED = re.compile(r"^\d+(\.\d+)+\.?\s*")


def faq_pages() -> list[Path]:
    return sorted(FAQ.glob("*.en.html"))


def faq_questions(limit: int, *, seed: int = 0) -> list[dict]:
    """FAQ entries whose heading is a question: {question, reference_answer, page}, a seeded sample."""
    from lxml import html

    items = []
    for page in faq_pages():
        for section in html.parse(str(page)).xpath("//div[@class='section']"):
            heading = section.xpath("./div[@class='titlepage']//h2|./div[@class='titlepage']//h3")
            if not heading:
                continue
            question = _NUMBERED.sub("", " ".join(heading[0].text_content().split()))
            answer = " ".join(" ".join(p.text_content().split()) for p in section.xpath(".//p"))
            if question.endswith("?") and len(answer.split()) >= 15:
                items.append({"question": question, "reference_answer": answer, "page": page.name})
    random.Random(seed).shuffle(items)  # noqa: S311 - a reproducible sample
    return items[:limit]


def same_page(url: str, page: str) -> bool:
    """Whether a crawled URL is the FAQ page (the package links the same pages as NAME.html and NAME.en.html)."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return name.replace(".en.html", ".html") == page.replace(".en.html", ".html")
