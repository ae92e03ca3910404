"""Ingestion throughput on a real book, against raw encoding of the same chunks in the same run.

Crawls the Advanced Bash-Scripting Guide (Debian package abs-guide, ~117 HTML
pages) served on 127.0.0.1 as a `site` source, end to end: fetch, extract,
clean, upsert, chunk, embed. Then encodes the very same chunk texts with a bare
SentenceTransformer.encode and reports the pipeline's throughput as a ratio of
it. Also measures int8 dynamic quantisation of the encoder side by side
(throughput and cosine to the fp32 vectors).

    .venv/bin/python bench/ingest.py [--max-pages N] [--skip-int8]

Prints one JSON object. Uses a throw-away DATA_DIR (embedded PostgreSQL).
"""

import argparse
import copy
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = Path("/usr/share/doc/abs-guide/html")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's signature
        pass


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def setup_django(data_dir: str) -> None:
    os.environ.update(
        DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="twinsite.settings",
        CRAWLER_ALLOWED_HOSTS="127.0.0.1",
        CRAWLER_HOST_INTERVAL_S="0",
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run_pipeline(base_url: str, max_pages: int) -> dict:
    from apps.documents.embedding import embedder
    from apps.documents.services import chunks_embed_pending, document_process
    from apps.sources.crawling import crawl_run_execute
    from apps.sources.models import Author, Source
    from apps.sources.services import crawl_run_create

    embedder()  # load the model before timing, as a running worker has it loaded
    author = Author.objects.create(name="Mendel Cooper")
    source = Source.objects.create(
        author=author, kind="site", url=f"{base_url}/index.html", options={"max_pages": max_pages}
    )
    changed: list[int] = []
    started = time.perf_counter()
    run = crawl_run_execute(run_id=crawl_run_create(source=source).pk, on_document=changed.append)
    crawled = time.perf_counter()
    for document_id in changed:
        document_process(document_id=document_id)
    chunked = time.perf_counter()
    embedded_count = chunks_embed_pending()
    finished = time.perf_counter()
    return {
        "pages": run.pages_fetched,
        "pages_failed": run.pages_failed,
        "documents": len(changed),
        "chunks": embedded_count,
        "seconds": {
            "crawl_and_extract": round(crawled - started, 2),
            "clean_chunk_dedup": round(chunked - crawled, 2),
            "embed_and_store": round(finished - chunked, 2),
            "total": round(finished - started, 2),
        },
    }


def encode_timed(model, texts: list[str], batch_size: int):
    started = time.perf_counter()
    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return vectors, time.perf_counter() - started


def raw_and_int8(skip_int8: bool) -> dict:
    import numpy as np
    import torch

    from apps.documents.embedding import embedder
    from apps.documents.models import Chunk

    model = embedder().model
    batch_size = embedder().batch_size
    texts = list(Chunk.objects.order_by("id").values_list("text", flat=True))
    fp32, fp32_s = encode_timed(model, texts, batch_size)
    result = {"raw_encode_chunks_per_s": round(len(texts) / fp32_s, 2), "raw_encode_s": round(fp32_s, 2)}
    stored = np.array([list(v) for v in Chunk.objects.order_by("id").values_list("embedding", flat=True)])
    result["stored_vs_raw_min_cosine"] = round(float((stored * fp32).sum(axis=1).min()), 5)
    if not skip_int8:
        warnings.filterwarnings("ignore", module="torch.ao")  # eager dynamic quantisation is deprecated upstream
        quantised = copy.deepcopy(model)
        quantised[0].model = torch.ao.quantization.quantize_dynamic(
            quantised[0].model, {torch.nn.Linear}, dtype=torch.qint8
        )
        int8, int8_s = encode_timed(quantised, texts, batch_size)
        cosines = (int8 * fp32).sum(axis=1)
        result["int8"] = {
            "chunks_per_s": round(len(texts) / int8_s, 2),
            "speedup": round(fp32_s / int8_s, 2),
            "cosine_to_fp32_mean": round(float(cosines.mean()), 5),
            "cosine_to_fp32_min": round(float(cosines.min()), 5),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-pages", type=int, default=500)
    parser.add_argument("--skip-int8", action="store_true")
    args = parser.parse_args()
    if not BOOK.is_dir():
        sys.exit(f"{BOOK} is missing: install the Debian package abs-guide")

    data_dir = tempfile.mkdtemp(prefix="twb-", dir="/tmp")
    server, base_url = serve(BOOK)
    try:
        setup_django(data_dir)
        pipeline = run_pipeline(base_url, args.max_pages)
        raw = raw_and_int8(args.skip_int8)
    finally:
        server.shutdown()
        from apps.core import embedded

        embedded.stop_all(Path(data_dir))
        shutil.rmtree(data_dir, ignore_errors=True)

    total = pipeline["seconds"]["total"]
    chunks_per_s = pipeline["chunks"] / total
    print(
        json.dumps(
            {
                "pages_per_s": round(pipeline["pages"] / total, 2),
                "chunks_per_s": round(chunks_per_s, 2),
                "raw_encode_chunks_per_s": raw["raw_encode_chunks_per_s"],
                "ratio": round(chunks_per_s / raw["raw_encode_chunks_per_s"], 3),
                **pipeline,
                **{k: v for k, v in raw.items() if k != "raw_encode_chunks_per_s"},
                "threads": __import__("torch").get_num_threads(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
