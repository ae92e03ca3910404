"""Git repositories (kind "github"): one document per text or code file of a shallow clone.

Files are read from git's object store (``ls-tree`` + ``cat-file``), never from a
checked-out tree: what we read is exactly what was committed (no smudge filters,
no line-ending conversion), and symbolic links, which could point anywhere on
this machine, are never followed.
"""

import base64
import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, urlunsplit

from apps.core.http import url_checked
from apps.sources.crawlers.base import CrawledDocument, CrawlItem, Progress, SourceSpec
from apps.sources.crawlers.exports.markdown import markdown_parts
from apps.sources.crawlers.paths import import_path, import_roots_or_configured, is_local_path
from apps.sources.credentials import userinfo_parts
from lib.errors import TwinsiteError

log = logging.getLogger(__name__)

ARTICLE_EXTENSIONS = frozenset({".md", ".markdown", ".rst", ".txt"})
LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".jsx": "jsx", ".ts": "typescript", ".tsx": "tsx",
    ".go": "go", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".scala": "scala", ".rb": "ruby", ".php": "php",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".cs": "csharp", ".swift": "swift",
    ".sh": "bash", ".bash": "bash", ".sql": "sql", ".r": "r", ".jl": "julia", ".lua": "lua", ".ex": "elixir",
    ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json", ".html": "html", ".css": "css",
}  # fmt: skip
_CONFIG_LANGUAGES = frozenset({"toml", "yaml", "json"})  # settings, not writing: opt in through ``extensions``
DEFAULT_EXTENSIONS = ARTICLE_EXTENSIONS | {ext for ext, lang in LANGUAGES.items() if lang not in _CONFIG_LANGUAGES}
VENDORED_DIRS = frozenset({"vendor", "node_modules", "third_party", ".git", "dist", "build"})
LOCK_FILES = frozenset(
    {"package-lock.json", "yarn.lock", "poetry.lock", "Cargo.lock", "Gemfile.lock", "pnpm-lock.yaml", "uv.lock"}
)
DEFAULT_MAX_FILE_BYTES = 512 * 1024
_BLOB_MODES = frozenset({b"100644", b"100755"})  # plain files; 120000 is a symlink, 160000 a submodule
_CREDENTIALS = re.compile(r"://[^/@\s]+@")
_SNIFF_BYTES = 8000  # git's own binary heuristic: a NUL byte in the first 8000 bytes


class RepositoryError(TwinsiteError):
    """A repository could not be cloned or read."""


@dataclass(frozen=True)
class RepositoryFile:
    path: str
    blob: str
    size: int


def code_language(path: str) -> str:
    """The fence language for a file name ("" when unknown)."""
    return LANGUAGES.get(PurePosixPath(path).suffix.lower(), "")


def code_fence(code: str, language: str) -> str:
    """Code in a fenced block, byte-for-byte; the fence outgrows any backtick run inside the code."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{code}{'' if code.endswith(chr(10)) else chr(10)}{fence}"


def repository_file_wanted(path: str, *, extensions: Iterable[str]) -> bool:
    """True for a file that may hold the author's writing: not vendored, not a lock file, a wanted extension."""
    parts = PurePosixPath(path).parts
    name = parts[-1]
    if any(part in VENDORED_DIRS for part in parts[:-1]) or name in LOCK_FILES or name.endswith(".min.js"):
        return False
    return PurePosixPath(name).suffix.lower() in {ext.lower() for ext in extensions}


def repository_display_url(url: str) -> str:
    """The repository URL without credentials or a trailing ``.git``: what documents and messages show."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https":
        return url.strip().rstrip("/")
    netloc = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or ""
    return urlunsplit(("https", netloc, parts.path.rstrip("/").removesuffix(".git"), "", ""))


class GitRepositoryCrawler:
    """Options: ``branch``, ``extensions`` (e.g. [".py", ".md"]), ``max_file_bytes``."""

    kind = "github"
    lists_everything = True

    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str] = (),
        import_roots: Iterable[Path] | None = None,
        timeout_s: float = 300.0,
        git: str = "git",
    ) -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self.import_roots = import_roots_or_configured(import_roots)
        self.timeout_s = timeout_s
        self.git = git

    def crawl(self, source: SourceSpec, *, progress: Progress | None = None) -> Iterator[CrawlItem]:
        repository = repository_display_url(source.url)
        extensions = source.options.get("extensions") or DEFAULT_EXTENSIONS
        max_bytes = int(source.options.get("max_file_bytes") or DEFAULT_MAX_FILE_BYTES)
        with tempfile.TemporaryDirectory(prefix="twinsite-git-") as home:
            clone_url, pins = self._clone_url(source.url, home=home)
            clone = Path(home) / "clone"
            self._clone(
                clone_url,
                clone,
                branch=source.options.get("branch"),
                repository=repository,
                home=home,
                pins=pins,
                credentials=source.credentials if clone_url.startswith("https://") else "",
            )
            commit = self._git(clone, "rev-parse", "-q", "--verify", "HEAD", home=home, check=False).decode().strip()
            if not commit:
                raise RepositoryError(f"The repository {repository} has no commits to crawl.")
            branch = self._git(clone, "symbolic-ref", "--short", "-q", "HEAD", home=home, check=False).decode().strip()
            files = [
                file
                for file in self._list_files(clone, home=home)
                if repository_file_wanted(file.path, extensions=extensions) and file.size <= max_bytes
            ]
            contents = self._read_blobs(clone, files, home=home)
            for done, (file, content) in enumerate(zip(files, contents, strict=True), start=1):
                document = repository_document(file.path, content, repository=repository, commit=commit)
                if document is not None:
                    document.metadata["branch"] = branch
                    yield document
                if progress:
                    progress(done, len(files))

    def _clone_url(self, url: str, *, home: str) -> tuple[str, dict[str, str]]:
        """The URL to clone, and git config that pins an https host to the addresses just checked."""
        url = url.strip()
        if is_local_path(url):
            return self._local_clone_url(url, home=home), {}
        if url.startswith("https://"):
            # One parse: the host checked is the host pinned and the host git is given (a URL that parsers
            # read differently, like https://1.1.1.1\@127.0.0.1/, is refused). git would resolve the name
            # again itself, and a DNS answer changed in between (rebinding) must not send it elsewhere,
            # so curl is told which addresses to use.
            target = url_checked(url, allowed_hosts=self.allowed_hosts)
            pinned = ",".join(f"[{a}]" if ":" in a else a for a in target.addresses)
            host = f"[{target.host}]" if ":" in target.host else target.host
            return target.url, {"http.curloptResolve": f"{host}:{target.port}:{pinned}"}
        raise RepositoryError(f"{url} is neither an https URL nor a local repository directory.")

    def _local_clone_url(self, url: str, *, home: str) -> str:
        """file:// of a repository inside the import folders, whose objects all live inside them too."""
        path = import_path(url, roots=self.import_roots)  # again now: a link may have been swapped in
        if not path.is_dir():
            raise RepositoryError(f"{url} is neither an https URL nor a local repository directory.")
        # A ".git" file ("gitdir: ...") or objects/info/alternates would have git read a repository
        # elsewhere on this machine: every place git reads from must be inside the import folders too.
        listing = self._run(
            ["-C", str(path), "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir"],
            home=home,
            check=False,
        )
        git_dirs = [Path(line) for line in listing.decode(errors="replace").splitlines() if line.strip()]
        if not git_dirs:
            raise RepositoryError(f"{url} is not a git repository.")
        for git_dir in git_dirs:
            import_path(str(git_dir), roots=self.import_roots)
            alternates = git_dir / "objects" / "info" / "alternates"
            if alternates.is_file():
                for line in alternates.read_text(errors="replace").splitlines():
                    if line.strip() and not line.startswith("#"):
                        import_path(str((git_dir / "objects" / line.strip()).resolve()), roots=self.import_roots)
        return path.as_uri()  # file://, so that --depth applies (plain paths ignore it)

    def _clone(
        self,
        url: str,
        dest: Path,
        *,
        branch: str | None,
        repository: str,
        home: str,
        pins: dict[str, str],
        credentials: str = "",
    ) -> None:
        args = ["clone", "--depth", "1", "--no-tags", "--single-branch", "--no-checkout", "--quiet"]
        if branch:
            args += ["--branch", str(branch)]
        try:
            self._run([*args, "--", url, str(dest)], home=home, config=pins, env=_auth_env(credentials))
        except subprocess.CalledProcessError as exc:
            # git may echo the URL, and with it a token the URL carries: show the redacted form only.
            stderr = exc.stderr.decode(errors="replace").replace(url, repository)
            lines = _CREDENTIALS.sub("://", stderr).strip().splitlines()
            reason = lines[-1].removeprefix("fatal: ").rstrip(".") if lines else f"git exited with {exc.returncode}"
            raise RepositoryError(f"Could not clone {repository}: {reason}.") from None
        except subprocess.TimeoutExpired:
            raise RepositoryError(f"Cloning {repository} took longer than {self.timeout_s:.0f} seconds.") from None

    def _list_files(self, clone: Path, *, home: str) -> list[RepositoryFile]:
        listing = self._git(clone, "ls-tree", "-r", "-z", "--long", "--full-tree", "HEAD", home=home)
        files = []
        for entry in filter(None, listing.split(b"\0")):
            meta, _, path = entry.partition(b"\t")
            mode, kind, blob, size = meta.split()
            if kind == b"blob" and mode in _BLOB_MODES:
                files.append(RepositoryFile(path.decode(errors="replace"), blob.decode(), int(size)))
        return files

    def _read_blobs(self, clone: Path, files: list[RepositoryFile], *, home: str) -> Iterator[bytes]:
        """Each file's committed bytes, one at a time: a whole repository need not fit in memory."""
        command = [self.git, "-C", str(clone), "cat-file", "--batch"]
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_git_env(home)) as git:
            assert git.stdin is not None and git.stdout is not None
            try:
                for file in files:
                    git.stdin.write(f"{file.blob}\n".encode())
                    git.stdin.flush()
                    size = int(git.stdout.readline().split()[2])
                    content = git.stdout.read(size)
                    git.stdout.read(1)  # the newline after each object
                    yield content
            finally:
                git.stdin.close()
                git.kill()

    def _git(self, clone: Path, *args: str, home: str, check: bool = True) -> bytes:
        try:
            return self._run(["-C", str(clone), *args], home=home, check=check)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            raise RepositoryError(f"Could not read the cloned repository: git {args[0]} failed.") from None

    def _run(
        self,
        args: list[str],
        *,
        home: str,
        check: bool = True,
        config: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
    ) -> bytes:
        # No redirects (the host was checked before cloning) and no transport but https and local files.
        config = {
            **(config or {}),
            "http.followRedirects": "false",
            "protocol.allow": "never",
            "protocol.https.allow": "always",
            "protocol.file.allow": "user",
            "core.hooksPath": os.devnull,
            "credential.helper": "",
            "http.lowSpeedLimit": "1000",
            "http.lowSpeedTime": "30",
        }
        command = [self.git, *(arg for key, value in config.items() for arg in ("-c", f"{key}={value}")), *args]
        environment = {**_git_env(home), **(env or {})}
        done = subprocess.run(command, capture_output=True, env=environment, timeout=self.timeout_s, check=check)
        return done.stdout if done.returncode == 0 else b""


def _git_env(home: str) -> dict[str, str]:
    """No user or system config (so no credential helpers, hooks or URL rewrites) and never a prompt."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ASKPASS": "true",
        "SSH_ASKPASS": "true",
    }


def _auth_env(credentials: str) -> dict[str, str]:
    """The token as an Authorization header, given to git through its environment: never in a URL or argv,
    so git cannot echo it in an error and ``ps`` cannot show it."""
    if not credentials:
        return {}
    user, password = userinfo_parts(credentials)
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


def repository_document(path: str, content: bytes, *, repository: str, commit: str) -> CrawledDocument | None:
    """One file as a document, or None for a binary or non-UTF-8 file (not the author's prose or code)."""
    if b"\0" in content[:_SNIFF_BYTES]:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        log.info("Skipping %s in %s: not UTF-8 text.", path, repository)
        return None
    metadata = {"repository": repository, "path": path, "commit": commit, "bytes": len(content)}
    if repository.startswith("https://github.com/"):
        metadata["web_url"] = f"{repository}/blob/{commit}/{path}"
    url = f"{repository}#{path}"  # no commit in the URL: an edited file stays the same document
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in {".md", ".markdown"}:
        parts = markdown_parts(text)
        return CrawledDocument(
            url=url,
            text=parts.body,
            title=parts.title or path,
            raw_content=text,
            published_at=parts.published_at,
            metadata=metadata,
        )
    if suffix in ARTICLE_EXTENSIONS:
        return CrawledDocument(url=url, text=text, title=path, raw_content=text, metadata=metadata)
    language = code_language(path)
    return CrawledDocument(
        url=url,
        text=code_fence(text, language),
        title=path,
        raw_content=text,
        content_type="code",
        metadata={**metadata, "language": language},
    )
