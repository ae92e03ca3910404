"""The git crawler against real repositories built with git in tmp_path."""

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from apps.core.http import BlockedAddressError
from apps.sources.crawlers.base import CrawledDocument, SourceSpec
from apps.sources.crawlers.github import GitRepositoryCrawler, RepositoryError, code_fence, repository_display_url

APP_PY = 'def greet(name):\n\tif name:  \n\t\treturn f"hi {name}"   \n\n\n    # odd  spacing kept\n'
# Code that itself holds a Markdown fence: the document's fence must be longer.
FENCE_PY = 'DOC = """\n```python\nprint(1)\n```\n"""\n'
README = "---\ntitle: Demo project\ndate: 2024-02-03\n---\n# Demo\n\nA small repo.\n"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Jane",
    "GIT_AUTHOR_EMAIL": "jane@example.org",
    "GIT_COMMITTER_NAME": "Jane",
    "GIT_COMMITTER_EMAIL": "jane@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **GIT_ENV})


def write(repo: Path, path: str, content: str | bytes) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content.encode() if isinstance(content, str) else content)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    files = {
        "src/app.py": APP_PY,
        "src/fence.py": FENCE_PY,
        "README.md": README,
        "docs/notes.rst": "Notes\n=====\n\nPlain words.\n",
        "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "data.txt": b"looks like text\x00but is binary",
        "node_modules/x.js": "module.exports = 1;\n",
        "vendor/lib.py": "x = 1\n",
        "dist/bundle.js": "var a=1;\n",
        "package-lock.json": "{}\n",
        "web/app.min.js": "var b=2;\n",
        "big.py": "x = 1\n" * 400,
        "latin1.py": "s = 'caf\xe9'\n".encode("latin-1"),
    }
    for path, content in files.items():
        write(repo, path, content)
    os.symlink("/etc/hostname", repo / "secret.md")  # must never be read through
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    return repo


def crawl(source: str, **options) -> list[CrawledDocument]:
    items = list(GitRepositoryCrawler().crawl(SourceSpec(url=source, kind="github", options=options)))
    assert all(isinstance(item, CrawledDocument) for item in items)
    return items


def by_path(documents: list[CrawledDocument]) -> dict[str, CrawledDocument]:
    return {doc.metadata["path"]: doc for doc in documents}


def test_crawl_keeps_the_authors_files_and_skips_binaries_vendored_locks_and_big_files(repo):
    documents = by_path(crawl(str(repo), max_file_bytes=1000))

    assert set(documents) == {"src/app.py", "src/fence.py", "README.md", "docs/notes.rst"}
    assert {doc.url for doc in documents.values()} == {f"{repo}#{path}" for path in documents}


def test_code_is_kept_byte_for_byte_in_a_fenced_block(repo):
    documents = by_path(crawl(str(repo)))

    app = documents["src/app.py"]
    assert app.content_type == "code"
    assert app.text == f"```python\n{APP_PY}```"
    assert app.raw_content == APP_PY
    fence = documents["src/fence.py"]
    assert fence.text == f"````python\n{FENCE_PY}````"


def test_markdown_and_rst_are_articles_with_front_matter_honoured(repo):
    documents = by_path(crawl(str(repo)))

    readme = documents["README.md"]
    assert readme.content_type == "article"
    assert readme.title == "Demo project"
    assert readme.text == "# Demo\n\nA small repo."
    assert readme.published_at is not None and readme.published_at.date().isoformat() == "2024-02-03"
    assert documents["docs/notes.rst"].content_type == "article"


def test_extensions_option_picks_the_files(repo):
    documents = by_path(crawl(str(repo), extensions=[".md"]))

    assert set(documents) == {"README.md"}


def test_an_edited_file_keeps_its_url_and_gets_the_new_text(repo):
    first = by_path(crawl(str(repo)))
    write(repo, "src/app.py", APP_PY + "\nprint(greet('you'))\n")
    git(repo, "commit", "-q", "-am", "second")

    second = by_path(crawl(str(repo)))

    assert {d.url for d in second.values()} == {d.url for d in first.values()}
    assert second["src/app.py"].raw_content.endswith("print(greet('you'))\n")
    assert second["README.md"].text == first["README.md"].text
    assert second["src/app.py"].metadata["commit"] != first["src/app.py"].metadata["commit"]


def test_branch_option_crawls_that_branch_only(repo):
    git(repo, "checkout", "-q", "-b", "drafts")
    write(repo, "draft.md", "# Draft\n\nNot yet.\n")
    git(repo, "add", "draft.md")
    git(repo, "commit", "-q", "-m", "draft")
    git(repo, "checkout", "-q", "main")

    assert "draft.md" not in by_path(crawl(str(repo)))
    drafts = by_path(crawl(str(repo), branch="drafts"))
    assert "draft.md" in drafts
    assert drafts["draft.md"].metadata["branch"] == "drafts"


def test_the_clone_is_removed_afterwards_and_progress_is_reported(repo, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    reports = []
    source = SourceSpec(url=str(repo), kind="github")

    items = list(GitRepositoryCrawler().crawl(source, progress=lambda *a: reports.append(a)))

    assert items
    assert list(scratch.iterdir()) == []
    assert reports[-1][0] == reports[-1][1] and reports[-1][1] >= len(items)


def test_a_missing_branch_or_path_is_a_clear_error(repo, tmp_path):
    with pytest.raises(RepositoryError, match="Could not clone"):
        crawl(str(repo), branch="no-such-branch")
    with pytest.raises(RepositoryError, match="neither an https URL nor a local repository"):
        crawl(str(tmp_path / "missing"))
    with pytest.raises(RepositoryError, match="neither an https URL"):
        crawl("ssh://git@example.org/repo.git")


def test_https_to_a_private_address_is_refused_before_cloning():
    with pytest.raises(BlockedAddressError):
        crawl("https://169.254.169.254/owner/repo.git")
    with pytest.raises(BlockedAddressError):
        crawl("https://127.0.0.1/owner/repo.git")


def test_code_fence_without_trailing_newline_closes_on_its_own_line():
    assert code_fence("x = 1", "python") == "```python\nx = 1\n```"


def test_an_empty_repository_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")

    with pytest.raises(RepositoryError, match="has no commits"):
        crawl(str(empty))


def test_document_urls_never_carry_credentials_or_dot_git():
    assert repository_display_url("https://jane:ghp_token@github.com/jane/blog.git/") == "https://github.com/jane/blog"
    assert repository_display_url("https://git.example.org:8443/jane/blog") == "https://git.example.org:8443/jane/blog"


def test_https_clone_is_pinned_to_the_addresses_checked(monkeypatch):
    """git resolves the host itself; curl is told to use the public addresses that passed the check."""
    import socket

    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
               (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:2800:21f:cb07::1", 443, 0, 0))]  # fmt: skip
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: answers)
    url, config = GitRepositoryCrawler()._clone_url("https://git.example.org/ada/engine.git", home="/nonexistent")
    assert url == "https://git.example.org/ada/engine.git"
    assert config == {"http.curloptResolve": "git.example.org:443:93.184.215.14,[2606:2800:21f:cb07::1]"}
