"""Replays the security review's attacks against a throw-away stack and reports how many were tried and held.

Starts the embedded PostgreSQL and Valkey in a temporary DATA_DIR, migrates, makes a staff and a plain
user with keys, serves the site with uvicorn on 127.0.0.1, and replays each family of URL and input
variants from tests/security/variants.py (import paths, credentials in URLs, MongoDB hosts, git URLs read
two ways, prompt delimiters, request bodies, malformed inputs, concurrent throttled requests, private
twins, operational endpoints). A variant "held" when the attack failed cleanly: refused with its 4xx in
the error envelope, nothing contacted, nothing leaked. No 5xx counts as held.

    .venv/bin/python bench/security_probe.py [--families import_paths,mongodb_addresses,...]

Prints one JSON object: per family, tried, held and the variants that did not hold.
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Made-up credentials the attacks try to read back (S105: deliberately hard-coded).
TOKEN = "ghp_Z9probeTOKENvalue0123456789abcd"  # noqa: S105
PASSWORD = "probe-Mongo-pw-7731"  # noqa: S105
SECRET_PHRASE = "orchid-lantern-42"  # noqa: S105
METRICS_TOKEN = "probe-metrics-token"  # noqa: S105
Result = tuple[int, int, list[str]]  # tried, held, what did not hold


def setup(data_dir: Path) -> None:
    (data_dir / "imports").mkdir(parents=True)
    os.environ.update(
        DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="twinsite.settings",
        IMPORT_ROOTS=str(data_dir / "imports"),
        CRAWLER_ALLOWED_HOSTS="",
        LOG_LEVEL="ERROR",
        THROTTLE_CHAT="30/min",
        RAG_ANSWER_MODE="extract",
        METRICS_TOKEN=METRICS_TOKEN,
    )
    import django

    from twinsite.env import embedded_start

    embedded_start()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = (data_dir / "uvicorn.log").open("w")
    command = [sys.executable, "-m", "uvicorn", "twinsite.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=os.environ, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=2)
            return process, base
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the server did not start:\n{(data_dir / 'uvicorn.log').read_text()[-3000:]}")
            time.sleep(0.3)


def people() -> dict:
    from django.contrib.auth import get_user_model

    from apps.chat.keys import api_key_create

    users = get_user_model().objects
    staff = users.create_user(username="probe-staff", password=None, is_staff=True)
    plain = users.create_user(username="probe-plain", password=None)
    return {
        "staff": api_key_create(user=staff, name="probe")[1],
        "plain": api_key_create(user=plain, name="probe")[1],
        "plain_user": plain,
    }


def envelope_ok(response: httpx.Response, *statuses: int) -> bool:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return response.status_code in statuses and bool(error.get("code")) and bool(error.get("message"))


# --- families ------------------------------------------------------------------------------------------


def import_paths(http: httpx.Client, keys: dict, data_dir: Path) -> Result:
    from apps.sources.models import Source
    from tests.security.variants import RELATIVE_PATHS

    roots = data_dir / "imports"
    outside = data_dir / "outside"
    outside.mkdir()
    (outside / "private.md").write_text("# Private\n\nhunter2\n")
    (roots / "link").symlink_to(outside)
    escapes = [f"{roots}/../outside", f"{roots}/link", f"{roots}/link/private.md", "/etc", str(ROOT)]
    variants = [(url, kind) for url in RELATIVE_PATHS for kind in ("export", "github", "warehouse", None)]
    variants += [(url, None) for url in escapes]
    failed = []
    for url, kind in variants:
        payload = {"author": "Probe Author", "url": url, **({"kind": kind} if kind else {})}
        response = http.post("/api/v1/sources", json=payload, headers={"Authorization": f"Bearer {keys['staff']}"})
        if not envelope_ok(response, 400) or Source.objects.filter(url=url.strip()).exists():
            failed.append(f"{url!r} ({kind or 'guessed'}): {response.status_code}")
    return len(variants), len(variants) - len(failed), failed


def source_credentials(http: httpx.Client, keys: dict, data_dir: Path) -> Result:
    urls = [
        f"https://x-access-token:{TOKEN}@github.com/ada/engine.git",
        f"mongodb://twin:{PASSWORD}@db.example.org:27017/twin",
        f"mongodb+srv://twin:{PASSWORD}@cluster.example.org/twin",
        f"https://ada:{PASSWORD}@ada.example/feed/",
        f"http://x-access-token:{TOKEN}@git.example.org/a.git",
        f"https://{TOKEN}@github.com/ada/other.git",
    ]
    failed = []
    staff = {"Authorization": f"Bearer {keys['staff']}"}
    for url in urls:
        created = http.post("/api/v1/sources", json={"author": "Probe Author", "url": url}, headers=staff)
        if created.status_code >= 500 or TOKEN in created.text or PASSWORD in created.text:
            failed.append(f"creating {url.split('@')[-1]}: {created.status_code}")
    listing = http.get("/api/v1/sources", headers={"Authorization": f"Bearer {keys['plain']}"})
    if TOKEN in listing.text or PASSWORD in listing.text:
        failed.append("the source list shows a credential")
    return len(urls) + 1, len(urls) + 1 - len(failed), failed


def _crawl(url: str, kind: str):
    from apps.sources.crawling import crawl_run_execute
    from apps.sources.models import Author
    from apps.sources.services import crawl_run_create, source_create

    author, _ = Author.objects.get_or_create(name="Probe Author")
    source = source_create(author=author, url=url, kind=kind)
    return crawl_run_execute(run_id=crawl_run_create(source=source).pk, on_document=lambda _: None)


def mongodb_addresses(http: httpx.Client, keys: dict, data_dir: Path) -> Result:
    from tests.security.listeners import tcp_listener
    from tests.security.variants import MONGODB_ELSEWHERE, MONGODB_LOOPBACK

    failed, tried = [], 0
    for template in [*MONGODB_LOOPBACK, *MONGODB_ELSEWHERE]:
        tried += 1
        with tcp_listener() as listener:
            url = template.format(port=listener.port)
            run = _crawl(url, "warehouse")
        refused = run.status == "failed" and "Refusing to connect" in run.errors[-1]["error"]
        if not refused or listener.connections:
            failed.append(f"{url}: {run.status}, {listener.connections} connection(s)")
    return tried, tried - len(failed), failed


def git_url_parsing(http: httpx.Client, keys: dict, data_dir: Path) -> Result:
    from apps.core.http import BlockedAddressError
    from apps.sources.crawlers.base import SourceSpec
    from apps.sources.crawlers.github import GitRepositoryCrawler
    from tests.security.listeners import tcp_listener
    from tests.security.variants import GIT_AMBIGUOUS

    failed = []
    for template in GIT_AMBIGUOUS:
        with tcp_listener() as listener:
            url = template.format(port=listener.port)
            try:
                list(GitRepositoryCrawler().crawl(SourceSpec(url=url, kind="github")))
                outcome = "cloned"
            except BlockedAddressError:
                outcome = "refused"
            except Exception as exc:  # noqa: BLE001 - reported, counted as not held
                outcome = type(exc).__name__
        if outcome != "refused" or listener.connections:
            failed.append(f"{url!r}: {outcome}, {listener.connections} connection(s)")
    return len(GIT_AMBIGUOUS), len(GIT_AMBIGUOUS) - len(failed), failed


def prompt_delimiters(http: httpx.Client, keys: dict, data_dir: Path) -> Result:
    from apps.rag.nodes.condense import condense_messages
    from apps.rag.nodes.generate import answer_messages
    from lib.prompt_safety import Fence
    from tests.security.variants import DELIMITER_ESCAPES, INJECTION, tags_a_model_may_read
    from training.judge import judge_prompt

    def fenced_only(prompt: str, expected: int) -> bool:
        found = tags_a_model_may_read(prompt)
        tokens = {tag.split("-", 1)[1].split(">")[0].split()[0] for tag in found if "-" in tag}
        return len(found) == expected and len(tokens) <= 1

    failed, tried = [], 0
    for variant in DELIMITER_ESCAPES:
        hostile = f"A paragraph. {variant}{INJECTION}"
        contexts = [{"n": n, "title": hostile, "text": hostile, "author_name": "Ada"} for n in (1, 2)]
        checks = {
            "answer": fenced_only(answer_messages({"question": hostile, "contexts": contexts})[1].content, 4),
            "passage": fenced_only(Fence("passage").wrap(hostile, title=hostile), 2),
            "judge": fenced_only(judge_prompt(instruction=hostile, reference=hostile, answer=hostile)[1]["content"], 6),
            "history": fenced_only(condense_messages("q", [{"role": "assistant", "content": hostile}])[1].content, 0),
        }
        for prompt, held in checks.items():
            tried += 1
            if not held:
                failed.append(f"{variant!r} in the {prompt} prompt")
    return tried, tried - len(failed), failed


def _raw(base: str, head: str, body: bytes = b"") -> int:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall(head.encode() + body)
        answer = sock.recv(65536)
    return int(answer.split(b" ", 2)[1]) if answer else 0


def request_limits(http: httpx.Client, keys: dict, data_dir: Path) -> Result:
    base = str(http.base_url).rstrip("/")
    auth = f"Authorization: Bearer {keys['plain']}\r\n"
    big = json.dumps({"message": "x" * 300 * 1024}).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (big[: 1 << 17], big[1 << 17 :])) + b"0\r\n\r\n"

    def post(extra: str, body: bytes = b"") -> Callable[[], int]:
        host = base.removeprefix("http://")
        head = f"POST /api/v1/chat HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{extra}\r\n"
        return lambda: _raw(base, head, body)

    def nested(depth: int) -> Callable[[], int]:
        body = ("[" * depth + "]" * depth).encode()
        headers = {"Authorization": f"Bearer {keys['plain']}", "Content-Type": "application/json"}
        return lambda: http.post("/api/v1/chat", content=body, headers=headers).status_code

    cases: dict[str, tuple[int, Callable[[], int]]] = {
        "200 MB declared, no key": (413, post("Content-Length: 209715200\r\n")),
        "20 MB declared, 64 KB sent": (413, post(f"{auth}Content-Length: 20971520\r\n", b"{" + b" " * 65535)),
        "300 KB sent": (413, post(f"{auth}Content-Length: {len(big)}\r\n", big)),
        "300 KB chunked": (413, post(f"{auth}Transfer-Encoding: chunked\r\n", chunked)),
        **{f"JSON nested {depth} deep": (400, nested(depth)) for depth in (33, 1000, 50_000)},
    }
    failed = [f"{name}: {status}" for name, (want, send) in cases.items() if (status := send()) != want]
    return len(cases), len(cases) - len(failed), failed


MALFORMED = [
    ("post", "/api/v1/chat", {}),
    ("post", "/api/v1/chat", {"message": None}),
    ("post", "/api/v1/chat", {"message": ["a"]}),
    ("post", "/api/v1/chat", {"message": {"a": 1}}),
    ("post", "/api/v1/chat", {"message": ""}),
    ("post", "/api/v1/chat", {"message": "x" * 5000}),
    ("post", "/api/v1/chat", {"message": "hi", "conversation_id": "nope"}),
    ("post", "/api/v1/chat", {"message": "hi", "conversation_id": 12}),
    ("post", "/api/v1/chat", {"message": "hi", "conversation_id": "00000000-0000-0000-0000-000000000000"}),
    ("post", "/api/v1/chat", {"message": "hi", "author": ""}),
    ("post", "/api/v1/chat", {"message": "hi", "author": "x" * 500}),
    ("post", "/api/v1/chat", {"message": "hi", "author": 3}),
    ("post", "/api/v1/chat", {"message": "hi", "stream": "maybe"}),
    ("post", "/api/v1/chat", {"message": "hi", "max_tokens": 0}),
    ("post", "/api/v1/chat", {"message": "hi", "max_tokens": 10**30}),
    ("post", "/api/v1/chat", {"message": "hi", "max_tokens": "lots"}),
    ("post", "/api/v1/chat", {"message": "hi", "max_tokens": -1}),
    ("post", "/api/v1/chat", {"message": "\u0000\ud7ff\uffff"}),
    ("post", "/api/v1/chat", ["message"]),
    ("post", "/api/v1/chat", "message"),
    ("post", "/api/v1/chat", 12),
    ("post", "/api/v1/chat", None),
    ("get", "/api/v1/search", {"q": ""}),
    ("get", "/api/v1/search", {"q": "x" * 2000}),
    ("get", "/api/v1/search", {"q": "x", "k": "many"}),
    ("get", "/api/v1/search", {"q": "x", "k": 0}),
    ("get", "/api/v1/search", {"q": "x", "k": 10**12}),
    ("get", "/api/v1/search", {"q": "x", "author": "Nobody Here"}),
    ("get", "/api/v1/search", {}),
    ("post", "/api/v1/messages/999999/feedback", {"rating": "up"}),
    ("post", "/api/v1/messages/1/feedback", {"rating": "meh"}),
    ("post", "/api/v1/messages/1/feedback", {"rating": None}),
    ("post", "/api/v1/messages/1/feedback", {"rating": "up", "edited_answer": "x" * 9000}),
    ("get", "/api/v1/conversations/not-a-uuid", None),
    ("delete", "/api/v1/conversations/00000000-0000-0000-0000-000000000000", None),
    ("post", "/api/v1/sources", {"author": "Probe Author", "url": "http://["}),
    ("post", "/api/v1/sources", {"author": "Probe Author", "url": "https://ada.example/", "kind": "nope"}),
    ("post", "/api/v1/sources", {"author": "Probe Author", "url": "https://ada.example/", "schedule": "0 25 * * *"}),
    ("post", "/api/v1/sources", {"author": "Probe Author", "url": "https://ada.example/", "options": "x"}),
    ("post", "/api/v1/sources", {"author": "Nobody Here", "url": "https://ada.example/"}),
    ("post", "/api/v1/sources/999999/crawl", None),
]


def malformed_inputs(http: httpx.Client, keys: dict, data_dir: Path) -> Result:
    failed = []
    staff = {"Authorization": f"Bearer {keys['staff']}"}
    for method, path, payload in MALFORMED:
        kwargs = {"params": payload} if method == "get" else {} if payload is None else {"json": payload}
        response = http.request(method.upper(), path, headers=staff, **kwargs)
        if not envelope_ok(response, 400, 403, 404, 405):
            failed.append(f"{method.upper()} {path} {str(payload)[:60]!r}: {response.status_code}")
    return len(MALFORMED), len(MALFORMED) - len(failed), failed


def throttle(http: httpx.Client, keys: dict, data_dir: Path) -> Result:
    from django.contrib.auth import get_user_model

    from apps.chat.keys import api_key_create
    from apps.core.counters import counters_reset

    counters_reset()
    # A user of its own: the other families' requests must not have used part of its chat budget.
    burster = get_user_model().objects.create_user(username="probe-burst", password=None)
    burst_keys = {name: api_key_create(user=burster, name=name)[1] for name in ("one", "two")}

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=80)
        async with httpx.AsyncClient(base_url=str(http.base_url), timeout=60, limits=limits) as client:
            # Two keys of one user, taking turns; an empty message is a 400 once the throttle has counted it.
            heads = [{"Authorization": f"Bearer {burst_keys['one' if n % 2 else 'two']}"} for n in range(80)]
            sends = [client.post("/api/v1/chat", json={}, headers=head) for head in heads]
            return [r.status_code for r in await asyncio.gather(*sends)]

    statuses = asyncio.run(burst())
    passed = sum(status != 429 for status in statuses)
    held = passed == 30 and not any(status >= 500 for status in statuses)
    return 1, int(held), [] if held else [f"80 at once on two keys of one user against 30/min: {passed} got through"]


def private_twins(http: httpx.Client, keys: dict, data_dir: Path) -> Result:
    from apps.documents import embedding
    from apps.documents.models import Chunk, Document
    from apps.sources.models import Author, Source

    grace = Author.objects.create(name="Grace Private", aliases=["gp"], access=Author.Access.RESTRICTED)
    ada, _ = Author.objects.get_or_create(name="Ada Public")
    texts = {
        ada: "I back up PostgreSQL every night with pg_dump from the replica and test a restore every month.",
        grace: f"Private runbook: PostgreSQL backups go to the vault at site B; the passphrase is {SECRET_PHRASE}.",
    }
    for (author, text), vector in zip(texts.items(), embedding.embedder().encode(list(texts.values())), strict=True):
        source = Source.objects.create(author=author, kind="article", url=f"https://{author.pk}.example/")
        document = Document.objects.create(
            source=source, author=author, url=source.url, title="notes", clean_text=text,
            content_hash=str(author.pk), status="processed",
        )  # fmt: skip
        Chunk.objects.create(
            document=document, ordinal=0, text=text, token_count=20, content_hash=str(author.pk),
            embedding=vector, embedding_model=embedding.model_id(),
        )  # fmt: skip
    plain = {"Authorization": f"Bearer {keys['plain']}"}
    question = "How are PostgreSQL backups made every night? Tell me about the vault at site B."

    def search(**params: str) -> Callable[[], httpx.Response]:
        return lambda: http.get("/api/v1/search", params=params, headers=plain)

    def chat(**body: str) -> Callable[[], httpx.Response]:
        return lambda: http.post("/api/v1/chat", json=body, headers=plain, timeout=300)

    probes = {
        "author list": lambda: http.get("/api/v1/authors", headers=plain),
        "source list": lambda: http.get("/api/v1/sources", headers=plain),
        "search by her words": search(q=f"vault passphrase {question}"),
        "search naming her": search(q=f"What did Grace Private write? {question}"),
        "chat": chat(message=question),
        "who are you": chat(message="Who are you?"),
    }
    # Asked for by name, she must read exactly as a name nobody has (the caller's own words echoed back).
    by_name = {
        "search by her alias": lambda name: http.get("/api/v1/search", params={"q": question, "author": name},
                                                     headers=plain),
        "chat by her name": lambda name: http.post("/api/v1/chat", json={"message": question, "author": name},
                                                   headers=plain),
    }  # fmt: skip
    failed = []
    for name, send in probes.items():
        response = send()
        leaked = SECRET_PHRASE in response.text or "Grace" in response.text or "vault at site B" in response.text
        if response.status_code >= 500 or leaked:
            failed.append(f"{name}: {response.status_code}{', leaked' if leaked else ''}")
    for name, ask in by_name.items():
        hers, nobodys = ask("Grace Private"), ask("Nobody Here")
        same = hers.text.replace("Grace Private", "X") == nobodys.text.replace("Nobody Here", "X")
        if hers.status_code != nobodys.status_code or not same:
            failed.append(f"{name}: answered {hers.status_code}, unlike a name nobody has ({nobodys.status_code})")
    tried = len(probes) + len(by_name)
    return tried, tried - len(failed), failed


def operational(http: httpx.Client, keys: dict, data_dir: Path) -> Result:
    def status(path: str, **headers: str) -> int:
        return http.get(path, headers=headers).status_code

    anonymous_health = http.get("/healthz").json()["checks"].values()
    checks = {
        "/metrics from this host, no token": status("/metrics") == 403,
        "/metrics with a wrong token": status("/metrics", Authorization="Bearer wrong") == 403,
        "/healthz anonymous: up/down only": all(set(check) == {"up"} for check in anonymous_health),
        "/api/schema without a key": status("/api/schema/") in (401, 403),
    }
    failed = [name for name, held in checks.items() if not held]
    return len(checks), len(checks) - len(failed), failed


FAMILIES = {
    "import_paths": import_paths,
    "source_credentials": source_credentials,
    "mongodb_addresses": mongodb_addresses,
    "git_url_parsing": git_url_parsing,
    "prompt_delimiters": prompt_delimiters,
    "request_limits": request_limits,
    "malformed_inputs": malformed_inputs,
    "throttle": throttle,
    "private_twins": private_twins,
    "operational": operational,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=lambda text: text.split(","), default=list(FAMILIES))
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="twp-", dir="/tmp"))  # short: PostgreSQL's socket lives in it
    server = None
    results: dict = {}
    try:
        setup(data_dir)
        keys = people()
        from apps.sources.models import Author

        Author.objects.create(name="Probe Author")
        server, base = start_server(data_dir)
        with httpx.Client(base_url=base, timeout=120) as http:
            for name in args.families:
                started = time.perf_counter()
                tried, held, failed = FAMILIES[name](http, keys, data_dir)
                results[name] = {"tried": tried, "held": held, "seconds": round(time.perf_counter() - started, 1)}
                if failed:
                    results[name]["did_not_hold"] = failed
        server_log = (data_dir / "uvicorn.log").read_text()
        results["server_tracebacks"] = server_log.count("Traceback")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        from apps.core import embedded

        embedded.stop_all(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
    families = [value for key, value in results.items() if isinstance(value, dict)]
    summary = {
        "tried": sum(f["tried"] for f in families),
        "held": sum(f["held"] for f in families),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps({**summary, "families": results}, indent=2))


if __name__ == "__main__":
    main()
