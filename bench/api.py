"""Requests per second and latency of the REST API under 1, 8 and 32 concurrent clients.

Ingests part of the Advanced Bash-Scripting Guide (Debian package abs-guide) into
a throw-away DATA_DIR, creates an API key, starts uvicorn (one worker) on
127.0.0.1 and drives it with httpx.AsyncClient: GET /api/v1/search, and POST
/api/v1/chat answered by the real local provider (SmolLM2-135M on CPU, a few
tokens; the graph's query rewrite generates too). Each level runs for a time
budget (search: also capped at --search-requests); no client starts a request
after the budget, and the ones in flight are waited for and counted, so a slow
level takes longer than its budget. Throttles are raised for the bench server.
Percentiles and requests/s count successful answers; failures are under errors.

The streamed pair compares the OpenAI-compatible route with the native one on the same questions, twin and
max_tokens: `chat_stream` (POST /api/v1/chat, stream) and `openai_stream` (POST /v1/chat/completions,
stream), their requests taking turns within each level, each request timed to its first chunk of answer
text (ttfc: the first `token` event, or the first chunk with delta content; OpenAI's opening role chunk does
not count) and to its end. `openai_overhead` is the OpenAI route's p50 over the native one's, minus 1, and
its requests/s short of the native one's (goal: <= 0.05 at p50). With a model on a CPU each answer takes
seconds, so `greetings` measures the same pair on a greeting, which the graph answers without retrieval or
the model: what remains is each route's own cost, and `openai_overhead_greeting` compares that.

    .venv/bin/python bench/api.py [--max-pages N] [--levels 1,8,32] [--endpoints search,chat,streams,greetings]
                                  [--search-budget-s S] [--search-requests N] [--chat-budget-s S]
    .venv/bin/python bench/api.py --soak [--soak-minutes 10] [--rate 1] [--down-s 10] [--grace-s 20]

``--soak`` runs bench/soak.py instead: mixed traffic at a fixed rate, two web workers and a Celery worker,
the worker killed and PostgreSQL restarted during the run (its docstring says what it reports).

Prints one JSON object.
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import BOOK, ROOT, run_pipeline, serve, setup_django  # noqa: E402

# Questions the Advanced Bash-Scripting Guide answers (they lived in bench/rag.py until it moved to the FAQ).
QUESTIONS = [
    "How do I loop over every file in a directory?",
    "What does the special variable $? hold?",
    "How can I read a file line by line in a script?",
    "What is the difference between single and double quotes?",
    "How do I test whether a file exists?",
    "How do arrays work in bash?",
    "What does set -e do?",
    "How do I redirect both stdout and stderr to a file?",
    "How can a script read command-line options?",
    "What is a here document used for?",
    "How do I do arithmetic in the shell?",
    "How do I write a function that returns a value?",
]
GREETING = "Hello"  # the graph's route node answers it directly: no retrieval, no model
Send = Callable[[int], Awaitable["Outcome"]]
SERVER_UP_S = 120
REQUEST_TIMEOUT_S = 600  # a chat request queued behind 31 others on a CPU model waits minutes
UNTHROTTLED = "100000/min"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Outcome:
    status: int
    first_chunk_s: float | None = None  # streamed requests: seconds to the first chunk of answer text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_api_server(data_dir: str, log: Path, *, workers: int = 1, **extra_env: str) -> tuple[subprocess.Popen, str]:
    """uvicorn on the bench's DATA_DIR; its output goes to a file, so a full pipe never stalls it."""
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "twinsite.settings",
        "LLM_PROVIDER": "local",
        "THROTTLE_CHAT": UNTHROTTLED,
        "THROTTLE_SEARCH": UNTHROTTLED,
        "THROTTLE_API": UNTHROTTLED,
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    command = [sys.executable, "-m", "uvicorn", "twinsite.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-access-log"]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_UP_S
    while True:
        if process.poll() is not None:
            sys.exit(f"the API server exited:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(f"{base_url}/healthz", timeout=2)
            return process, base_url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.terminate()
                sys.exit(f"the API server did not answer within {SERVER_UP_S} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)


def create_api_key() -> str:
    from django.contrib.auth import get_user_model

    from apps.chat.keys import api_key_create

    user = get_user_model().objects.create_user(username="bench", password=None)
    return api_key_create(user=user, name="bench/api.py")[1]


async def drive(sends: dict[str, Send], *, concurrency: int, budget_s: float, max_requests: int) -> dict:
    """Run `concurrency` clients, each sending one request after another, until the budget or the cap.

    With several routes, requests take turns among them (the n-th request goes to route n mod k, asking the
    question numbered n div k), so every route is measured under the same load at the same time.
    Returns the figures per route.
    """
    routes = list(sends)
    latencies_ms: dict[str, list[float]] = {route: [] for route in routes}
    first_chunks_ms: dict[str, list[float]] = {route: [] for route in routes}
    errors: dict[str, Counter[str]] = {route: Counter() for route in routes}
    issued = 0
    started = time.perf_counter()
    deadline = started + budget_s

    async def client() -> None:
        nonlocal issued
        while time.perf_counter() < deadline and issued < max_requests:
            number, issued = issued, issued + 1  # one event loop: no lock needed
            route = routes[number % len(routes)]
            sent = time.perf_counter()
            try:
                outcome = await sends[route](number // len(routes))
            except httpx.HTTPError as exc:
                errors[route][type(exc).__name__] += 1
                continue
            if outcome.status >= 400:
                errors[route][str(outcome.status)] += 1
            else:
                latencies_ms[route].append((time.perf_counter() - sent) * 1000)
                if outcome.first_chunk_s is not None:
                    first_chunks_ms[route].append((outcome.first_chunk_s - sent) * 1000)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {route: _figures(latencies_ms[route], first_chunks_ms[route], errors[route], elapsed) for route in routes}


def _figures(latencies_ms: list[float], first_chunks_ms: list[float], errors: Counter[str], elapsed: float) -> dict:
    level = {
        "rps": round(len(latencies_ms) / elapsed, 2),
        "p50_ms": round(statistics.median(latencies_ms), 1) if latencies_ms else None,
        "p95_ms": round(percentile(latencies_ms, 0.95), 1) if latencies_ms else None,
        "errors": sum(errors.values()),
        "requests": len(latencies_ms) + sum(errors.values()),
        "seconds": round(elapsed, 1),
    }
    if first_chunks_ms:
        level["ttfc_p50_ms"] = round(statistics.median(first_chunks_ms), 1)
        level["ttfc_p95_ms"] = round(percentile(first_chunks_ms, 0.95), 1)
    if errors:
        level["error_kinds"] = dict(errors)
    return level


async def first_text(response: httpx.Response, is_text: Callable[[str], bool]) -> Outcome:
    """Read a streamed answer to its end; note when the first line carrying answer text arrived."""
    first, failed = None, False
    async for line in response.aiter_lines():
        if first is None and is_text(line):
            first = time.perf_counter()
        # A stream that fails after its 200 ends with an error event: native "event: error", OpenAI {"error"}.
        failed = failed or line == "event: error" or line.startswith('data: {"error"')
    return Outcome(502 if failed else response.status_code, first)


def _openai_text(line: str) -> bool:
    if not line.startswith("data: {"):
        return False
    choices = json.loads(line[len("data: ") :]).get("choices") or [{}]
    return bool(choices[0].get("delta", {}).get("content"))


def overhead(native: dict, openai: dict) -> dict:
    """The OpenAI route's p50s and requests/s relative to the native route's, per level (0.03 = 3 % slower)."""
    ratios = {}
    for level, mine in openai.items():
        theirs = native[level]
        ratios[level] = {
            name: round(mine[name] / theirs[name] - 1, 3) if mine.get(name) and theirs.get(name) else None
            for name in ("ttfc_p50_ms", "p50_ms")
        }
        ratios[level]["rps"] = round(1 - mine["rps"] / theirs["rps"], 3) if theirs["rps"] else None
    return ratios


async def bench_endpoints(base_url: str, key: str, args: argparse.Namespace) -> dict:
    limits = httpx.Limits(max_connections=max(args.levels) * 2, max_keepalive_connections=max(args.levels) * 2)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S, limits=limits) as api:

        def question(number: int) -> str:
            return QUESTIONS[number % len(QUESTIONS)]

        async def search(number: int) -> Outcome:
            return Outcome((await api.get("/api/v1/search", params={"q": question(number)})).status_code)

        async def chat(number: int) -> Outcome:
            body = {"message": question(number), "max_tokens": args.chat_max_tokens}
            return Outcome((await api.post("/api/v1/chat", json=body)).status_code)

        async def chat_stream(number: int) -> Outcome:
            body = {"message": question(number), "max_tokens": args.chat_max_tokens, "stream": True}
            async with api.stream("POST", "/api/v1/chat", json=body) as response:
                return await first_text(response, lambda line: line == "event: token")

        async def openai_stream(number: int) -> Outcome:
            messages = [{"role": "user", "content": question(number)}]
            body = {"model": "twin", "messages": messages, "max_tokens": args.chat_max_tokens, "stream": True}
            async with api.stream("POST", "/v1/chat/completions", json=body) as response:
                return await first_text(response, _openai_text)

        async def chat_greeting(number: int) -> Outcome:
            body = {"message": GREETING, "stream": True}
            async with api.stream("POST", "/api/v1/chat", json=body) as response:
                return await first_text(response, lambda line: line == "event: token")

        async def openai_greeting(number: int) -> Outcome:
            body = {"model": "twin", "messages": [{"role": "user", "content": GREETING}], "stream": True}
            async with api.stream("POST", "/v1/chat/completions", json=body) as response:
                return await first_text(response, _openai_text)

        plans = {
            "search": ({"search": search}, args.search_budget_s, args.search_requests),
            "chat": ({"chat": chat}, args.chat_budget_s, sys.maxsize),
            # Taking turns within each level: both routes see the same machine at the same time.
            "streams": ({"chat_stream": chat_stream, "openai_stream": openai_stream}, args.chat_budget_s, sys.maxsize),
            # A greeting is answered without retrieval or the model: what is left is each route's own cost.
            "greetings": (
                {"chat_greeting": chat_greeting, "openai_greeting": openai_greeting},
                args.greeting_budget_s,
                args.greeting_requests,
            ),
        }
        results: dict = {}
        for endpoint in args.endpoints:
            sends, budget_s, max_requests = plans[endpoint]
            for route, send in sends.items():
                # Warm up: the embedder and the language model load on first use, not within a timed level.
                assert (await send(0)).status < 400, f"{route}: the warm-up request failed"
            for level in args.levels:
                measured = await drive(sends, concurrency=level, budget_s=budget_s, max_requests=max_requests)
                for route, figures in measured.items():
                    results.setdefault(route, {})[str(level)] = figures
        if "chat_stream" in results:
            results["openai_overhead"] = overhead(results["chat_stream"], results["openai_stream"])
        if "chat_greeting" in results:
            results["openai_overhead_greeting"] = overhead(results["chat_greeting"], results["openai_greeting"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-pages", type=int, default=40)
    parser.add_argument("--levels", type=lambda text: [int(n) for n in text.split(",")], default=[1, 8, 32])
    parser.add_argument(
        "--endpoints", type=lambda text: text.split(","), default=["search", "chat", "streams", "greetings"]
    )
    parser.add_argument("--search-budget-s", type=float, default=10)
    parser.add_argument("--search-requests", type=int, default=200, help="most search requests per level")
    parser.add_argument("--chat-budget-s", type=float, default=30)
    parser.add_argument("--chat-max-tokens", type=int, default=8)
    parser.add_argument("--greeting-budget-s", type=float, default=15)
    parser.add_argument("--greeting-requests", type=int, default=400, help="most greeting requests per level")
    parser.add_argument("--soak", action="store_true", help="the soak run (bench/soak.py) instead of the levels")
    parser.add_argument("--soak-minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=1.0, help="soak: requests per second")
    parser.add_argument("--down-s", type=float, default=10, help="soak: how long the worker and PostgreSQL stay down")
    parser.add_argument("--grace-s", type=float, default=20, help="soak: a fault window's tail after recovery")
    args = parser.parse_args()
    if not BOOK.is_dir():
        sys.exit(f"{BOOK} is missing: install the Debian package abs-guide")

    import uvicorn

    data_dir = tempfile.mkdtemp(prefix="twa-", dir="/tmp")  # short: PostgreSQL's socket lives in it
    book_server, book_url = serve(BOOK)
    api_server = None
    try:
        setup_django(data_dir)
        ingested = run_pipeline(book_url, args.max_pages)
        key = create_api_key()
        load_at_start = os.getloadavg()[0]
        if args.soak:
            import soak

            # Two web workers; a share of the chats is scored on the Celery worker, so it has work when killed.
            api_server, base_url = start_api_server(
                data_dir, Path(data_dir) / "uvicorn.log", workers=2, RAG_FAITHFULNESS_SAMPLE="0.3"
            )
            results = {"soak": soak.soak(base_url, key, QUESTIONS, data_dir, api_server, args)}
        else:
            api_server, base_url = start_api_server(data_dir, Path(data_dir) / "uvicorn.log")
            results = asyncio.run(bench_endpoints(base_url, key, args))
        failed = (
            results["soak"]["outside_fault_windows"]["errors"]
            if args.soak
            else any(level.get("errors") for levels in results.values() for level in levels.values())
        )
        if failed:
            # The log goes with the throw-away DATA_DIR: show why the server failed while it is still there.
            server_log = (Path(data_dir) / "uvicorn.log").read_text()
            sys.stderr.write(f"--- the API server's log (last 6000 characters) ---\n{server_log[-6000:]}\n")
    finally:
        if api_server is not None:
            api_server.terminate()
            api_server.wait(timeout=30)
        book_server.shutdown()
        from apps.core import embedded

        embedded.stop_all(Path(data_dir))
        shutil.rmtree(data_dir, ignore_errors=True)

    server = {
        "workers": 2 if args.soak else 1,
        "uvicorn": uvicorn.__version__,
        "llm_provider": "local",
        "chat_max_tokens": args.chat_max_tokens,
        "budgets_s": {"search": args.search_budget_s, "chat": args.chat_budget_s, "greeting": args.greeting_budget_s},
        "search_requests_cap": args.search_requests,
        **(
            {
                "soak": {
                    "minutes": args.soak_minutes,
                    "rate": args.rate,
                    "down_s": args.down_s,
                    "grace_s": args.grace_s,
                    "faithfulness_sample": 0.3,
                }
            }
            if args.soak
            else {}
        ),
        "cpus": os.cpu_count(),
        "load_avg_1m_at_start": round(load_at_start, 2),
        "corpus": {"pages": ingested["pages"], "chunks": ingested["chunks"]},
    }
    print(json.dumps({**results, "server": server}, indent=2))


if __name__ == "__main__":
    main()
