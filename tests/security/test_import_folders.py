"""Finding 1: import folders cannot be escaped, at save time or by a link swapped in before the crawl.

The attack: a staff key adds an export, repository or warehouse source whose "URL" is a relative path
(read from the worker's directory: the application itself) or a path leading out of IMPORT_ROOTS,
then crawls it so that a non-staff key can search what it held.
"""

import os
import subprocess
from pathlib import Path

import pytest

from apps.documents.models import Document
from apps.sources.crawling import crawl_run_execute
from apps.sources.models import CrawlRun, Source
from apps.sources.services import crawl_run_create, source_create
from tests.factories import make_author
from tests.security.variants import RELATIVE_PATHS

pytestmark = pytest.mark.django_db

APP_ROOT = Path(__file__).resolve().parents[2]  # the application's own folder, settings included
GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.org"}  # fmt: skip

RELATIVE = RELATIVE_PATHS


@pytest.fixture
def roots(settings, tmp_path: Path) -> Path:
    imports = tmp_path / "imports"
    imports.mkdir()
    settings.IMPORT_ROOTS = [imports]
    return imports


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the import folder, with something private in it."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "private.md").write_text("# Private\n\nThe database password is hunter2.\n")
    return folder


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "notes.md").write_text("# Notes\n\nWritten inside the repository.\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True, env=GIT_ENV)
    return path


@pytest.mark.parametrize("kind", ["export", "github", "warehouse", None])
@pytest.mark.parametrize("url", RELATIVE)
def test_a_relative_path_is_refused_by_the_api_naming_the_url(staff_api, roots, url, kind):
    author = make_author(name="Ada Example")
    payload = {"author": author.name, "url": url, **({"kind": kind} if kind else {})}
    response = staff_api.post("/api/v1/sources", payload, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert any(reason in error["message"] for reason in ("relative path", "not a usable path", "file: URLs"))
    assert not Source.objects.exists()


@pytest.mark.parametrize("escape", ["{roots}/../outside", "{roots}/link", "{roots}/link/private.md", "/etc", "{app}"])
def test_a_path_that_resolves_outside_the_import_folders_is_refused(staff_api, roots, outside, escape):
    (roots / "link").symlink_to(outside)
    url = escape.format(roots=roots, app=APP_ROOT)
    response = staff_api.post("/api/v1/sources", {"author": make_author().name, "url": url}, format="json")
    assert response.status_code == 400
    assert "outside the import folders" in response.json()["error"]["message"]
    assert not Source.objects.exists()


@pytest.mark.parametrize("kind", ["article", "feed", "site", "sitemap"])
def test_web_kinds_refuse_paths_and_path_kinds_refuse_web_schemes(staff_api, roots, kind):
    author = make_author()
    payload = {"author": author.name, "url": str(roots), "kind": kind}
    response = staff_api.post("/api/v1/sources", payload, format="json")
    assert response.status_code == 400 and "not an http(s) URL" in response.json()["error"]["message"]
    response = staff_api.post(
        "/api/v1/sources", {"author": author.name, "url": "http://ada.example/x", "kind": "export"}, format="json"
    )
    assert response.status_code == 400 and "must be an absolute path" in response.json()["error"]["message"]


def _crawl(source: Source) -> CrawlRun:
    run = crawl_run_create(source=source)
    return crawl_run_execute(run_id=run.pk, on_document=lambda document_id: None)


@pytest.mark.parametrize("kind", ["export", "github", "warehouse"])
def test_a_link_swapped_in_after_saving_is_refused_when_crawling(roots, outside, kind):
    target = roots / "writing"
    if kind == "github":
        git_repo(target)
        git_repo(outside / "repo")
        escape = outside / "repo"
    else:
        target.mkdir()
        (target / "articles.json").write_text("[]")
        escape = outside
    source = source_create(author=make_author(), url=str(target), kind=kind)
    # Between saving and crawling, the folder becomes a link to one outside the import folders.
    os.rename(target, roots / "moved")
    target.symlink_to(escape)

    run = _crawl(source)

    assert run.status == CrawlRun.Status.FAILED
    assert "outside the import folders" in run.errors[-1]["error"]
    assert not Document.objects.exists()


def test_a_repository_whose_git_dir_points_outside_is_refused(roots, outside):
    git_repo(outside / "repo")
    decoy = roots / "decoy"
    decoy.mkdir()
    (decoy / ".git").write_text(f"gitdir: {outside / 'repo' / '.git'}\n")  # git follows this file
    source = source_create(author=make_author(), url=str(decoy), kind="github")

    run = _crawl(source)

    assert run.status == CrawlRun.Status.FAILED
    assert "outside the import folders" in run.errors[-1]["error"]
    assert not Document.objects.exists()


def test_a_repository_borrowing_objects_from_outside_is_refused(roots, outside):
    git_repo(outside / "repo")
    borrower = roots / "borrower"
    subprocess.run(["git", "clone", "-q", "--shared", str(outside / "repo"), str(borrower)], check=True, env=GIT_ENV)
    source = source_create(author=make_author(), url=str(borrower), kind="github")

    run = _crawl(source)

    assert run.status == CrawlRun.Status.FAILED
    assert "outside the import folders" in run.errors[-1]["error"]


def test_a_folder_inside_the_import_folders_is_still_crawled(roots):
    git_repo(roots / "repo")
    source = source_create(author=make_author(), url=str(roots / "repo"), kind="github")

    run = _crawl(source)

    assert run.status == CrawlRun.Status.SUCCEEDED, run.errors
    assert list(Document.objects.values_list("title", flat=True)) == ["Notes"]
