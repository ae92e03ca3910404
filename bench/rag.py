"""Chat speed through the API: POST /api/v1/chat (streamed) with the packaged SmolLM2, on the Debian FAQ.

Crawls the Debian FAQ (Debian package debian-faq) on 127.0.0.1 into a throw-away database, then starts
the web app (uvicorn) once per setting and asks the FAQ's own questions over Server-Sent Events:
time to the first token event, time to the done event, and per-node times from each answer's trace.
Settings: model precision bf16 and fp32 (MODEL_PRECISION), expansion forced on and off (RAG_EXPANSION), and
the answer mode (RAG_ANSWER_MODE). Each run starts with no answer history, so in auto mode the model writes
until its record of checked answers says otherwise (after 10): a run longer than that shows the steady state.

    .venv/bin/python bench/rag.py [--questions 12] [--precisions bf16,fp32] [--expansion off,on]
                                  [--answer-modes auto]

Prints one JSON object.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faq import FAQ, faq_questions  # noqa: E402
from ingest import ROOT, run_pipeline, serve, setup_django  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web(data_dir: str, **settings: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATA_DIR": data_dir, "LOG_LEVEL": "WARNING", "RAG_FAITHFULNESS_SAMPLE": "0", **settings}
    env["THROTTLE_CHAT"] = "10000/min"
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "twinsite.asgi:application", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                return process, base
        except httpx.TransportError:
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError("the web app did not start")


def ask(base: str, key: str, question: str) -> dict:
    started = time.perf_counter()
    first = None
    done: dict = {}
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream(
        "POST", f"{base}/api/v1/chat", json={"message": question, "stream": True}, headers=headers, timeout=300
    ) as response:
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                if event == "token" and first is None:
                    first = time.perf_counter() - started
                elif event in ("done", "error"):
                    done = {"event": event, **json.loads(line[len("data: ") :])}
    whole = time.perf_counter() - started
    return {"ttft_s": first if first is not None else whole, "whole_s": whole, **done}


def node_times(trace_ids: list[str]) -> dict:
    from apps.monitoring.models import Span

    per_node: dict[str, list[float]] = {}
    for node, ms in Span.objects.filter(trace_id__in=trace_ids).values_list("node", "duration_ms"):
        per_node.setdefault(node, []).append(ms)
    return {node: {"p50_ms": round(statistics.median(v), 1), "count": len(v)} for node, v in per_node.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--precisions", default="bf16,fp32")
    parser.add_argument("--expansion", default="off,on")
    parser.add_argument("--answer-modes", default="auto", help="RAG_ANSWER_MODE values: auto, generate, extract")
    args = parser.parse_args()
    if not FAQ.is_dir():
        sys.exit(f"{FAQ} is missing: install the Debian package debian-faq")
    data_dir = tempfile.mkdtemp(prefix="twb-", dir="/tmp")
    server, base_url = serve(FAQ)
    report: dict = {"loadavg_start": Path("/proc/loadavg").read_text().split()[:3], "runs": []}
    try:
        setup_django(data_dir)
        ingested = run_pipeline(base_url, 200)
        report["corpus"] = {"name": "debian-faq", "pages": ingested["pages"], "chunks": ingested["chunks"]}
        from django.contrib.auth import get_user_model

        from apps.chat.keys import api_key_create

        user = get_user_model().objects.create_user(username="bench")
        key = api_key_create(user=user, name="bench")[1]
        questions = [item["question"] for item in faq_questions(args.questions)]
        from apps.monitoring.models import Span, Trace

        runs = [
            (precision, expansion, mode)
            for precision in args.precisions.split(",")
            for expansion in args.expansion.split(",")
            for mode in args.answer_modes.split(",")
        ]
        for precision, expansion, mode in runs:
            Trace.objects.all().delete()  # no answer history carried from the run before
            process, base = start_web(
                data_dir, MODEL_PRECISION=precision, RAG_EXPANSION=expansion, RAG_ANSWER_MODE=mode
            )
            try:
                ask(base, key, "What is Debian?")  # warm up: models loaded
                answers = [ask(base, key, q) for q in questions]
            finally:
                process.terminate()
                process.wait(30)
            ok = [a for a in answers if a.get("event") == "done"]
            kinds = dict(Trace.objects.filter(pk__in=[a["trace_id"] for a in ok]).values_list("pk", "answer_kind"))
            written = {str(t) for t in Span.objects.filter(node="generate").values_list("trace_id", flat=True)}
            paths = {"model_wrote": [a for a in ok if a["trace_id"] in written]}
            paths["no_generation"] = [a for a in ok if a["trace_id"] not in written]
            report["runs"].append(
                {
                    "precision": precision,
                    "expansion": expansion,
                    "answer_mode": mode,
                    "answers": len(ok),
                    "errors": len(answers) - len(ok),
                    "answer_kinds": {k: list(kinds.values()).count(k) for k in sorted(set(kinds.values()))},
                    "ttft_p50_s": round(statistics.median(a["ttft_s"] for a in answers), 2),
                    "whole_p50_s": round(statistics.median(a["whole_s"] for a in answers), 2),
                    "whole_p95_s": round(sorted(a["whole_s"] for a in answers)[int(0.95 * (len(answers) - 1))], 2),
                    "nodes": node_times([a["trace_id"] for a in ok]),
                    # answers the model wrote (checked, perhaps then extracted) and answers it was not asked for
                    "by_path": {
                        path: {
                            "answers": len(rows),
                            "ttft_p50_s": round(statistics.median(a["ttft_s"] for a in rows), 2),
                            "whole_p50_s": round(statistics.median(a["whole_s"] for a in rows), 2),
                        }
                        for path, rows in paths.items()
                        if rows
                    },
                }
            )
    finally:
        server.shutdown()
        from apps.core import embedded

        embedded.stop_all(Path(data_dir))
        shutil.rmtree(data_dir, ignore_errors=True)
    report["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
