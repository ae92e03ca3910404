"""Ingestion throughput on a real book, against raw encoding of the same chunks in the same run.

Crawls the Advanced Bash-Scripting Guide (Debian package abs-guide, ~117 HTML
pages) served on 127.0.0.1 as a `site` source, end to end: fetch, extract,
clean, upsert, chunk, embed. Then encodes the very same chunk texts with a bare
SentenceTransformer.encode, in fp32 and in bf16, and reports the pipeline's throughput
as a ratio of the fp32 encode (``ratio``; the pipeline runs in MODEL_PRECISION, auto: bf16
where the CPU computes it natively) and of the bf16 one (``ratio_to_raw_bf16``), with the
minimum cosine of the stored and the raw bf16 vectors to the fp32 ones. The machines
are shared, so it does this ``--rounds`` times (the database emptied in between) and reports
every round's ratio, their median and spread; each ratio compares two timings taken minutes
apart, never across runs.

Side by side, on the same texts, against the fp32 vectors (cosine): int8 dynamic
quantisation of the encoder, and the encoder exported to ONNX and run by ONNX
Runtime with as many threads as torch (needs ``onnxruntime`` and ``onnx``; the
export is torch's own and runs offline from the packaged model).

    .venv/bin/python bench/ingest.py [--max-pages N] [--rounds N] [--skip-int8] [--skip-onnx]
                                     [--skip-recrawl | --recrawl-only] [--recrawl-pages N]

``recrawl``: the cost of crawling an unchanged site again, with the per-host pause set as in
production (CRAWLER_HOST_INTERVAL_S, 1 s by default). The book, with a sitemap.xml listing
``--recrawl-pages`` pages and their files' dates as ``lastmod`` (what a static host publishes), is
crawled end to end (fetch, extract, chunk, embed), then crawled again; ``recrawl_ratio`` = second
time / first time (goal <= 0.10). The same for a ``site`` source (breadth-first, conditional GETs
answered 304, so still one paced request per page): ``recrawl_ratio_site``.

Prints one JSON object. Uses a throw-away DATA_DIR (embedded PostgreSQL).
"""

import argparse
import copy
import json
import os
import shutil
import statistics
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

    from twinsite.env import embedded_start

    embedded_start()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run_pipeline(base_url: str, max_pages: int) -> dict:
    from apps.documents.embedding import embedder
    from apps.documents.services import chunks_embed_pending, document_process
    from apps.sources.crawling import crawl_run_execute
    from apps.sources.models import Author, Source
    from apps.sources.services import crawl_run_create
    from lib.text.tokens import token_counter

    # Load the models before timing, as a running worker has them loaded.
    embedder()
    token_counter()
    Author.objects.all().delete()  # the round before's documents and chunks go with it
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


def encode_timed(model, texts: list[str], batch_size: int, precision: str = "fp32"):
    """A bare SentenceTransformer.encode, in fp32 or under lib.precision's bf16 autocast."""
    from lib.precision import autocast

    started = time.perf_counter()
    with autocast(precision):
        vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return vectors.astype("float32"), time.perf_counter() - started


def chunk_texts_and_vectors():
    import numpy as np

    from apps.documents.models import Chunk

    rows = list(Chunk.objects.order_by("id").values_list("text", "embedding"))
    return [text for text, _ in rows], np.array([list(vector) for _, vector in rows])


def raw_encode(texts: list[str], stored) -> tuple[dict, object]:
    """The same texts encoded bare in fp32 (the reference) and in bf16, with the cosine of each to fp32."""
    from apps.documents.embedding import embedder

    fp32, fp32_s = encode_timed(embedder().model, texts, embedder().batch_size)
    bf16, bf16_s = encode_timed(embedder().model, texts, embedder().batch_size, precision="bf16")
    result = {
        "raw_encode_chunks_per_s": round(len(texts) / fp32_s, 2),
        "raw_encode_s": round(fp32_s, 2),
        "raw_bf16_encode_chunks_per_s": round(len(texts) / bf16_s, 2),
        "raw_bf16_vs_fp32_min_cosine": round(float((bf16 * fp32).sum(axis=1).min()), 5),
        "stored_vs_raw_min_cosine": round(float((stored * fp32).sum(axis=1).min()), 5),
    }
    return result, fp32


def side_by_side(vectors, seconds: float, fp32, fp32_s: float) -> dict:
    cosines = (vectors * fp32).sum(axis=1)
    return {
        "chunks_per_s": round(len(vectors) / seconds, 2),
        "speedup": round(fp32_s / seconds, 2),
        "cosine_to_fp32_mean": round(float(cosines.mean()), 5),
        "cosine_to_fp32_min": round(float(cosines.min()), 5),
    }


def int8_encode(texts: list[str]):
    import torch

    from apps.documents.embedding import embedder

    quantised = copy.deepcopy(embedder().model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # eager dynamic quantisation is deprecated upstream
        quantised[0].model = torch.ao.quantization.quantize_dynamic(
            quantised[0].model, {torch.nn.Linear}, dtype=torch.qint8
        )
    return encode_timed(quantised, texts, embedder().batch_size)


class OnnxEncoder:
    """The MiniLM transformer exported by torch.onnx, run by ONNX Runtime; tokenizer and pooling as in fp32."""

    def __init__(self, model, folder: Path) -> None:
        import onnxruntime
        import torch

        bert = model[0].auto_model.eval()

        class LastHiddenState(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.bert(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        names = ["input_ids", "attention_mask", "token_type_ids"]
        example = torch.ones(2, 16, dtype=torch.long)
        path = folder / "minilm.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python-side branches of the HF code
            torch.onnx.export(
                LastHiddenState(),
                (example, example, torch.zeros_like(example)),
                str(path),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # the same cores as torch, for a fair race
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._model = model
        self._names = names

    def encode(self, texts: list[str], *, batch_size: int):
        import numpy as np

        order = np.argsort([-len(text) for text in texts], kind="stable")  # as SentenceTransformer.encode
        out = np.zeros((len(texts), self._model.get_embedding_dimension()), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            features = self._model.preprocess([texts[i] for i in rows])
            feeds = {name: features[name].numpy() for name in self._names}
            hidden = self._session.run(None, feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


def onnx_encode(texts: list[str], folder: Path):
    from apps.documents.embedding import embedder

    encoder = OnnxEncoder(embedder().model, folder)
    encoder.encode(texts[:64], batch_size=embedder().batch_size)  # warm-up, as the fp32 model is warm
    started = time.perf_counter()
    vectors = encoder.encode(texts, batch_size=embedder().batch_size)
    return vectors, time.perf_counter() - started


def write_sitemap(folder: Path, base_url: str, pages: int) -> None:
    names = sorted(path.name for path in folder.glob("*.html"))[:pages]
    entries = "".join(
        f"<url><loc>{base_url}/{name}</loc><lastmod>"
        f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime((folder / name).stat().st_mtime))}</lastmod></url>"
        for name in names
    )
    (folder / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>"
    )


def timed_crawl(source) -> tuple[float, object]:
    """One crawl of the source and the processing of what it found, as the workers would do it."""
    from apps.documents.services import chunks_embed_pending, document_process
    from apps.sources.crawling import crawl_run_execute
    from apps.sources.services import crawl_run_create

    changed: list[int] = []
    started = time.perf_counter()
    run = crawl_run_execute(run_id=crawl_run_create(source=source).pk, on_document=changed.append)
    for document_id in changed:
        document_process(document_id=document_id)
    chunks_embed_pending()
    return time.perf_counter() - started, run


def recrawl(folder: Path, base_url: str, pages: int) -> dict:
    from django.conf import settings

    from apps.documents.embedding import embedder
    from apps.sources.models import Author, Source
    from lib.text.tokens import token_counter

    embedder()
    token_counter()
    settings.CRAWLER_HOST_INTERVAL_S = float(os.environ.get("RECRAWL_HOST_INTERVAL_S", "1.0"))  # production's
    write_sitemap(folder, base_url, pages)
    results = {"host_interval_s": settings.CRAWLER_HOST_INTERVAL_S, "pages": pages}
    for kind, url, options in (
        ("sitemap", f"{base_url}/sitemap.xml", {}),
        ("site", f"{base_url}/index.html", {"max_pages": pages}),
    ):
        Author.objects.all().delete()
        source = Source.objects.create(
            author=Author.objects.create(name="Mendel Cooper"), kind=kind, url=url, options=options
        )
        first_s, first = timed_crawl(source)
        second_s, second = timed_crawl(source)
        results[kind] = {
            "first_s": round(first_s, 2),
            "second_s": round(second_s, 2),
            "first": first.counts(),
            "second": second.counts(),
            "ratio": round(second_s / first_s, 4),
        }
    results["recrawl_ratio"] = results["sitemap"]["ratio"]
    results["recrawl_ratio_site"] = results["site"]["ratio"]
    return results


def one_round(base_url: str, args: argparse.Namespace, folder: Path, *, last: bool) -> dict:
    pipeline = run_pipeline(base_url, args.max_pages)
    texts, stored = chunk_texts_and_vectors()
    raw, fp32 = raw_encode(texts, stored)
    total = pipeline["seconds"]["total"]
    chunks_per_s = pipeline["chunks"] / total
    result = {
        "pages_per_s": round(pipeline["pages"] / total, 2),
        "chunks_per_s": round(chunks_per_s, 2),
        "raw_encode_chunks_per_s": raw["raw_encode_chunks_per_s"],
        "ratio": round(chunks_per_s / raw["raw_encode_chunks_per_s"], 3),
        "ratio_to_raw_bf16": round(chunks_per_s / raw["raw_bf16_encode_chunks_per_s"], 3),
        **pipeline,
        **{key: value for key, value in raw.items() if key != "raw_encode_chunks_per_s"},
    }
    if last and not args.skip_int8:
        result["int8"] = side_by_side(*int8_encode(texts), fp32, raw["raw_encode_s"])
    if last and not args.skip_onnx:
        try:
            result["onnx"] = side_by_side(*onnx_encode(texts, folder), fp32, raw["raw_encode_s"])
        except ImportError as exc:  # an optional measurement: the pipeline itself never uses ONNX
            result["onnx"] = {"skipped": f"{exc.name} is not installed (pip install onnxruntime==1.32.0 onnx==1.23.2)"}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-pages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="pipeline + raw encode pairs; the spread is reported")
    parser.add_argument("--skip-int8", action="store_true")
    parser.add_argument("--skip-onnx", action="store_true")
    parser.add_argument("--skip-recrawl", action="store_true")
    parser.add_argument("--recrawl-only", action="store_true", help="only the recrawl figure")
    parser.add_argument("--recrawl-pages", type=int, default=40, help="pages in the recrawl measurement")
    args = parser.parse_args()
    if not BOOK.is_dir():
        sys.exit(f"{BOOK} is missing: install the Debian package abs-guide")

    data_dir = tempfile.mkdtemp(prefix="twb-", dir="/tmp")
    book = Path(data_dir) / "book"
    shutil.copytree(BOOK, book)  # a copy the sitemap can be written into; file dates are kept
    server, base_url = serve(book)
    recrawled: dict = {}
    try:
        setup_django(data_dir)
        rounds = [
            one_round(base_url, args, Path(data_dir), last=index == args.rounds - 1)
            for index in range(0 if args.recrawl_only else args.rounds)
        ]
        if not args.skip_recrawl:
            recrawled = recrawl(book, base_url, args.recrawl_pages)
    finally:
        server.shutdown()
        from apps.core import embedded

        embedded.stop_all(Path(data_dir))
        shutil.rmtree(data_dir, ignore_errors=True)

    load = {"load_average": [round(value, 2) for value in os.getloadavg()]}
    if not rounds:
        print(json.dumps({"recrawl_ratio": recrawled["recrawl_ratio"], "recrawl": recrawled, **load}, indent=2))
        return
    from apps.documents.embedding import embedder

    pipeline_precision = embedder().precision
    ratios = [result["ratio"] for result in rounds]
    summary = {
        "ratio_median": round(statistics.median(ratios), 3),
        "ratios": ratios,
        "ratio_spread": round(max(ratios) - min(ratios), 3),
        "raw_encode_chunks_per_s_all": [result["raw_encode_chunks_per_s"] for result in rounds],
        "raw_bf16_encode_chunks_per_s_all": [result["raw_bf16_encode_chunks_per_s"] for result in rounds],
        "pipeline_precision": pipeline_precision,
        "threads": __import__("torch").get_num_threads(),
        **load,
        **({"recrawl_ratio": recrawled["recrawl_ratio"], "recrawl": recrawled} if recrawled else {}),
    }
    # The last round in full, under the summary of all of them.
    print(json.dumps({**summary, **rounds[-1], "rounds": rounds[:-1]}, indent=2))


if __name__ == "__main__":
    main()
