"""Cleaning keeps the writing and its structure, fixes what extraction leaves behind, and leaves code alone."""

import hashlib
import random
from pathlib import Path

from lib.text.cleaning import clean_text, content_hash, split_code_fences

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "text"
GPL = Path("/usr/share/common-licenses/GPL-3")

CODE_BLOCK = "```python\ndef handler(event):\n\tif event:\t\n        return  {'ok': True}   \n\n\n\n    pass\n```"


def test_punctuation_and_typography_are_kept():
    text = "“Don’t panic,” she said — twice… (really!) 50% off; a/b & c? #1 — ‘quoted’ «guillemets» 3–4 p.m."
    assert clean_text(text) == text


def test_fenced_code_is_kept_byte_for_byte():
    text = f"Intro   with  spaces.\n\n{CODE_BLOCK}\n\nOutro\u00a0text."
    cleaned = clean_text(text)
    assert CODE_BLOCK in cleaned
    assert cleaned == f"Intro with spaces.\n\n{CODE_BLOCK}\n\nOutro text."


def test_code_keeps_what_prose_loses():
    # Zero-width spaces, entities, tags and NBSP inside code can be the point of the code.
    code = '~~~html\n<p class="x">&nbsp;\u200b</p>\n\u00a0\u00a0indented\n~~~'
    assert clean_text(f"Look:\n\n{code}") == f"Look:\n\n{code}"


def test_inline_code_is_kept_as_written():
    assert clean_text("Use `a  <b>  &amp;` here,   then  `x`.") == "Use `a  <b>  &amp;` here, then `x`."


def test_headings_paragraphs_and_lists_keep_their_structure():
    text = "#   Title  \n\n\n\nFirst   paragraph\nwraps here.   \n\n## Part\n- one\n  - nested\n- two\n1. first"
    assert clean_text(text) == "# Title\n\nFirst paragraph\nwraps here.\n\n## Part\n- one\n  - nested\n- two\n1. first"


def test_invisible_and_odd_spaces_are_normalised():
    text = "no\u00a0break, thin\u2009space,\u200bzero\ufeffwidth, soft\u00adhyphen, \ufb01ne"
    assert clean_text(text) == "no break, thin space,zerowidth, softhyphen, fine"


def test_unicode_is_composed():
    decomposed = "Cafe\u0301 re\u0301sume\u0301"
    assert clean_text(decomposed) == "Café résumé"


def test_line_endings_are_unified():
    assert clean_text("one\r\ntwo\r\n\r\nthree\rfour") == "one\ntwo\n\nthree\nfour"


def test_control_characters_are_removed_but_tabs_in_code_stay():
    assert clean_text("bell\x07 and\x00 escape\x1b[0m") == "bell and escape[0m"
    assert clean_text("```\n\tx\x1b\n```") == "```\n\tx\x1b\n```"


def test_leftover_html_is_stripped_and_entities_unescaped():
    # An escaped "<daily>" was text on the page, and it is not an HTML element: it stays as text.
    text = "<p>Fish &amp; chips &mdash; <b>hot</b>,<br>served &lt;daily&gt;.</p><!-- tracking --><script>x()</script>"
    assert clean_text(text) == "Fish & chips — hot,\nserved <daily>."


def test_prose_about_generics_survives():
    assert clean_text("A List<String> and a Vec<T> and 1 < 2 > 0.") == "A List<String> and a Vec<T> and 1 < 2 > 0."


def test_urls_with_ampersands_are_not_unescaped():
    assert clean_text("See https://x.example/?a=1&copy=2&lt=3") == "See https://x.example/?a=1&copy=2&lt=3"


def test_cleaning_is_idempotent_on_real_and_hostile_text():
    samples = [path.read_text() for path in FIXTURES.glob("*.md")]
    if GPL.exists():
        samples.append(GPL.read_text())
    samples.append("&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; and &amp;#96;&amp;#96;&amp;#96;\ncode\n```")
    alphabet = list("ab #-`~&;<>/\n\r\t.") + ["\u00a0", "\u200b", "&amp;", "<b>", "```", "\x07", "e\u0301", "  - "]
    generator = random.Random(7)
    samples += ["".join(generator.choices(alphabet, k=200)) for _ in range(300)]
    for sample in samples:
        once = clean_text(sample)
        assert clean_text(once) == once, repr(sample)


def test_empty_and_blank_text_clean_to_empty():
    assert clean_text("") == ""
    assert clean_text(" \n\t\u00a0\u200b\r\n") == ""


def test_fences_are_found_as_commonmark_reads_them():
    lines = ["text", "````md", "```", "still code", "````", "after", "```unclosed", "x"]
    runs = split_code_fences(lines)
    assert [(run.is_code, run.closed) for run in runs] == [(False, True), (True, True), (False, True), (True, False)]
    assert runs[1].lines == ("````md", "```", "still code", "````")


def test_content_hash_is_sha256_of_the_text():
    assert content_hash("héllo") == hashlib.sha256("héllo".encode()).hexdigest()
    assert content_hash("a") != content_hash("a ")
