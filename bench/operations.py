"""Operations under real processes: how fast a hung-up stream stops, and whether counters add up over workers.

Sets up a throw-away DATA_DIR with a three-post corpus, a scripted model backend on 127.0.0.1 (the
OpenAI-compatible provider; tests/chat/backend.py) that streams the author's sentences one word every
``--pace-ms``, and uvicorn with ``--workers 2``.

- ``disconnect``: ``--disconnects`` streamed chats per route (``/api/v1/chat``, ``/v1/chat/completions``), each
  hung up after its first token; ``stop_s`` is the time from the client closing its connection to the backend
  seeing its stream closed by the app (goal: p50 and max under 1 s). The reference measured in the same run
  is the backend's own pace: a stop can take no less than one word.
- ``metrics``: ``--requests`` GET /api/v1/authors spread over the two workers, then ``--scrapes`` scrapes of
  /metrics, each answered by whichever worker gets it; every scrape should count exactly the requests sent.

    .venv/bin/python bench/operations.py [--disconnects N] [--pace-ms MS] [--requests N] [--scrapes N]

Prints one JSON object.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import start_api_server  # noqa: E402
from ingest import serve, setup_django  # noqa: E402

QUESTION = "How does the sourdough dough rest and proof?"
METRICS_TOKEN = "bench-metrics-token"  # noqa: S105 - a throw-away stack's


def start_server(data_dir: str, backend_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    """uvicorn with two workers, answered by the scripted backend through the OpenAI-compatible provider."""
    return start_api_server(
        data_dir, log, workers=2, LLM_PROVIDER="openai", OPENAI_BASE_URL=f"{backend_url}/v1",
        RAG_ANSWER_MODE="generate", RAG_EXPANSION="off", RAG_FAITHFULNESS_SAMPLE="0", METRICS_TOKEN=METRICS_TOKEN,
    )  # fmt: skip


def hang_up_after_first_token(base: str, path: str, body: dict, headers: dict) -> float:
    """Stream, close the connection at the first answer text; the time it was closed (time.monotonic())."""
    with httpx.stream("POST", f"{base}{path}", json=body, headers=headers, timeout=120) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if '"token"' in line or ('"content": "' in line and '"content": ""' not in line):
                break
    return time.monotonic()


def disconnects(base: str, backend, headers: dict, count: int) -> dict:
    from tests.rag.corpus import POSTS

    backend.answer = " ".join(POSTS["sourdough"][1] * 30)
    routes = {
        "chat": ("/api/v1/chat", {"message": QUESTION, "stream": True, "author": "Ada", "max_tokens": 1024}),
        "openai": ("/v1/chat/completions", {"model": "twin-ada-example", "stream": True, "max_tokens": 1024,
                                            "messages": [{"role": "user", "content": QUESTION}]}),
    }  # fmt: skip
    results = {}
    for name, (path, body) in routes.items():
        stops = []
        for _ in range(count):
            backend.words_sent, backend.hung_up_at = 0, None
            left = hang_up_after_first_token(base, path, body, headers)
            deadline = time.monotonic() + 30
            while backend.hung_up_at is None and time.monotonic() < deadline:
                time.sleep(0.01)
            stops.append(None if backend.hung_up_at is None else round(backend.hung_up_at - left, 3))
        done = [s for s in stops if s is not None]
        results[name] = {
            "runs": count,
            "never_stopped": count - len(done),
            "stop_s_p50": round(statistics.median(done), 3) if done else None,
            "stop_s_max": max(done) if done else None,
            "words_of_answer": len(backend.words),
        }
    return results


def metrics(base: str, headers: dict, requests: int, scrapes: int) -> dict:
    route = 'twinsite_http_requests_total{method="GET",route="api/v1/authors",status="200"}'

    def counted(text: str) -> float:
        return next((float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(route)), 0.0)

    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    before = counted(httpx.get(f"{base}/metrics", headers=auth, timeout=30).text)
    statuses = []
    for _ in range(requests):  # a fresh connection each: uvicorn's workers share the socket, so both serve
        statuses.append(httpx.get(f"{base}/api/v1/authors", headers=headers, timeout=30).status_code)
    seen = [counted(httpx.get(f"{base}/metrics", headers=auth, timeout=30).text) - before for _ in range(scrapes)]
    return {
        "requests": requests,
        "answered_200": statuses.count(200),
        "counted_per_scrape": sorted(set(seen)),
        "counted_by_each_process": per_process(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])),
    }


def per_process(directory: Path) -> list[float]:
    """GET /api/v1/authors 200s in each process's own file: which workers served them, and how many each."""
    from prometheus_client.mmap_dict import MmapedDict

    counts = []
    for path in sorted(directory.glob("counter_*.db")):
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            _, name, labels, _ = json.loads(key)
            if name == "twinsite_http_requests_total" and labels.get("route") == "api/v1/authors" and value:
                counts.append(value)
    return sorted(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disconnects", type=int, default=5)
    parser.add_argument("--pace-ms", type=float, default=20.0)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--scrapes", type=int, default=10)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="twb-", dir="/tmp")
    process = None
    try:
        setup_django(data_dir)
        from django.contrib.auth import get_user_model

        from apps.chat.keys import api_key_create
        from apps.sources.models import Author, Source
        from tests.chat.backend import ScriptedBackend, serve_backend
        from tests.rag.corpus import write_corpus
        from tests.sources.blog import crawl

        folder = Path(data_dir) / "blog"
        write_corpus(folder)
        site, site_url = serve(folder)
        author = Author.objects.create(name="Ada Example", aliases=["Ada"])
        crawl(Source.objects.create(author=author, kind="site", url=f"{site_url}/index.html"))
        user = get_user_model().objects.create_user(username="bench", password="pw-bench-1")  # noqa: S106
        headers = {"Authorization": f"Bearer {api_key_create(user=user, name='bench')[1]}"}
        with serve_backend(ScriptedBackend(pace_s=args.pace_ms / 1000)) as backend:
            process, base = start_server(data_dir, backend.base_url, Path(data_dir) / "server.log")
            report = {
                "backend_pace_s": args.pace_ms / 1000,
                "disconnect": disconnects(base, backend, headers, args.disconnects),
                "metrics_two_workers": metrics(base, headers, args.requests, args.scrapes),
            }
        print(json.dumps(report, indent=2))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        from apps.core import embedded

        embedded.stop_all(Path(data_dir))
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
