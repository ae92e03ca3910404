"""Which PDF library reads text layers best: token F1 against the same document's HTML, and seconds.

Real PDFs from Debian documentation packages that ship the HTML of the same document
(shared-mime-info: shared-mime-info-spec.pdf and .html). Prints JSON. Run:
    .venv/bin/python bench/pdf_text.py
"""

import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.html_text import html_to_text  # noqa: E402

PAIRS = [
    (
        Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"),
        Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.html"),
    ),
]


def tokens(text: str) -> Counter:
    return Counter(text.replace("`", " ").replace("#", " ").split())


def f1(got: str, want: str) -> float:
    got_tokens, want_tokens = tokens(got), tokens(want)
    common = sum((got_tokens & want_tokens).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got_tokens.values()), common / sum(want_tokens.values())
    return 2 * precision * recall / (precision + recall)


def with_pypdf(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def with_pdfminer(path: Path) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(str(path))


def with_pypdfium2(path: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def main() -> None:
    results = {}
    for name, read in (("pypdf", with_pypdf), ("pdfminer.six", with_pdfminer), ("pypdfium2", with_pypdfium2)):
        scores, seconds = [], 0.0
        for pdf, html in PAIRS:
            pages = sorted(html.glob("*.html")) if html.is_dir() else [html]
            want = "\n\n".join(html_to_text(page.read_text(encoding="utf-8", errors="replace")) for page in pages)
            read(pdf)  # warm: imports and caches
            started = time.perf_counter()
            got = read(pdf)
            seconds += time.perf_counter() - started
            scores.append(f1(got, want))
        results[name] = {"token_f1": round(sum(scores) / len(scores), 4), "seconds": round(seconds, 3)}
    print(json.dumps({"documents": [str(pdf) for pdf, _ in PAIRS], "results": results}, indent=2))


if __name__ == "__main__":
    main()
