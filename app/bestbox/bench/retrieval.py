"""`bestbox bench --only retrieval`: document retrieval quality and scale.

- quality: the labelled set in `retrieval_set` (a fictional firm's documents in every supported
  format), recall@5 and MRR for keyword (FTS5 BM25), embedding (e5-small) and fused (RRF, k=60),
  per question kind (lexical / paraphrase), and whether unanswerable questions are recognised.
- scale: a generated corpus (size: $BESTBOX_BENCH_DOCS_SCALE="FILES:MB", default 500:50 with
  --quick, else 5000:500): indexing rate (files/s, MB/s) and peak memory while indexing (keyword
  stage), the embedding rate (chunks/s on a sample), and search latency p50/p95 at that size.
  Embedding every chunk of 500 MB takes hours on 2 cores, so the fused latency at scale is measured
  over vectors of the real shape filled in for every chunk (random unit vectors): the time of the
  search does not depend on the vector values; this is said in the output.

Search latency is reported as wall time and as CPU time (all threads of the process), since on a
shared machine only the first grows with the neighbours' load.

Standalone: `python -m bestbox.bench.retrieval [--files N --mb M] [--quality-only | --scale-only]
[--work DIR]` (DIR keeps the corpus and index; a later run with it measures the search again).
"""
from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from . import retrieval_set as RS


def _rank(hits, rel: str, page: int | None, by_page: bool) -> int | None:
    for i, h in enumerate(hits, start=1):
        if h.path.endswith(rel) and (not by_page or page is None or h.page == page):
            return i
    return None


def quality(work: Path) -> dict:
    from ..data.documents import Indexer, Searcher, answers

    docs = RS.write_set(work / "docs")
    db = work / "quality.sqlite3"
    t = time.perf_counter()
    rep = Indexer([str(docs)], db=db).sync()
    out: dict = {"documents": rep.files, "failed": rep.failed, "chunks_embedded": rep.embedded,
                 "index_s": round(time.perf_counter() - t, 2), "questions": len(RS.QUESTIONS)}
    s = Searcher(db)
    try:
        out["mode"] = s.mode
        for mode in ("keyword", "embedding", "fused"):
            per: dict = {}
            for kind in ("all", "lexical", "paraphrase"):
                qs = [q for q in RS.QUESTIONS if kind == "all" or q[3] == kind]
                ranks = [_rank(s.search(q, 5, mode), rel, page, False) for q, rel, page, _ in qs]
                per[kind] = {"recall@5": round(sum(r is not None for r in ranks) / len(qs), 3),
                             "mrr": round(sum(1 / r for r in ranks if r) / len(qs), 3), "n": len(qs)}
            page_ranks = [_rank(s.search(q, 5, mode), rel, page, True) for q, rel, page, _ in RS.QUESTIONS]
            per["all"]["recall@5_page"] = round(sum(r is not None for r in page_ranks) / len(page_ranks), 3)
            out[mode] = per
        answerable = [bool(s.search(q, 1) and answers(s.search(q, 1)[0])) for q, *_ in RS.QUESTIONS]
        refused = [not (h := s.search(q, 1)) or not answers(h[0]) for q in RS.UNANSWERABLE]
        out["answer_threshold"] = {"answerable_accepted": f"{sum(answerable)}/{len(answerable)}",
                                   "unanswerable_refused": f"{sum(refused)}/{len(refused)}"}
    finally:
        s.close()
    return out


class _PeakRSS:
    """Peak resident memory of this process and its children, sampled every 50 ms."""

    def __init__(self):
        import psutil

        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                rss = self.proc.memory_info().rss + sum(c.memory_info().rss for c in self.proc.children(True))
                self.peak = max(self.peak, rss)
            except Exception:
                pass
            self._stop.wait(0.05)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def _cpu_s() -> float:
    import psutil

    p = psutil.Process()
    t = p.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def _pcts(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
            "n": len(ms)}


def scale(work: Path, n_files: int, total_mb: float, queries: int = 40, log=print) -> dict:
    from ..data.documents import Indexer, store

    corpus = work / "corpus"
    db = work / "scale.sqlite3"
    if db.exists() and corpus.exists():     # --work DIR of an earlier run: measure the search again
        out = _reused(db, corpus)
        log(f"  reusing the index of an earlier run: {out['files']} files, {out['chunks']} passages")
        return _search_scale(db, out, queries)
    t = time.perf_counter()
    files, nbytes = RS.write_scale_corpus(corpus, n_files, total_mb)
    log(f"  corpus: {files} files, {nbytes / 1e6:.0f} MB written in {time.perf_counter() - t:.0f} s")
    with _PeakRSS() as mem:
        t, cpu0, load0 = time.perf_counter(), _cpu_s(), os.getloadavg()[0]
        rep = Indexer([str(corpus)], db=db, embed=False).sync()
        secs, cpu = time.perf_counter() - t, _cpu_s() - cpu0
    out: dict = {"files": files, "mb": round(nbytes / 1e6, 1), "index_s": round(secs, 1),
                 # On a shared machine wall time depends on the neighbours; CPU time does not.
                 "index_cpu_s": round(cpu, 1), "mb_per_cpu_s": round(nbytes / 1e6 / cpu, 2) if cpu else None,
                 "load_avg_at_start": round(load0, 1),
                 "files_per_s": round(files / secs, 1), "mb_per_s": round(nbytes / 1e6 / secs, 2),
                 "peak_rss_mb_indexing": round(mem.peak / 2**20), "failed": rep.failed,
                 "db_mb": round(db.stat().st_size / 1e6)}
    log(f"  indexed (keyword stage) in {secs:.0f} s: {out['files_per_s']} files/s, {out['mb_per_s']} MB/s")
    con = store.connect(db)
    out["chunks"] = con.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    con.close()
    return _search_scale(db, out, queries)


def _reused(db: Path, corpus: Path) -> dict:
    from ..data.documents import store

    con = store.connect(db)
    try:
        return {"reused_index": True, "files": con.execute("SELECT COUNT(*) FROM documents").fetchone()[0],
                "mb": round(sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file()) / 1e6, 1),
                "chunks": con.execute("SELECT COUNT(*) FROM chunks").fetchone()[0],
                "db_mb": round(db.stat().st_size / 1e6)}
    finally:
        con.close()


def _search_scale(db: Path, out: dict, queries: int) -> dict:
    import numpy as np

    from ..data.documents import Searcher, store, vectors
    from ..data.documents.embed import DIM, get_embedder, to_blob

    con = store.connect(db)
    emb = get_embedder()
    if emb is not None and con.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] < out["chunks"]:
        sample = [r[0] for r in con.execute("SELECT text FROM chunks LIMIT 64")]
        t = time.perf_counter()
        emb.passages(sample)
        rate = len(sample) / (time.perf_counter() - t)
        out["embed_chunks_per_s"] = round(rate, 1)
        out["embed_all_hours_projected"] = round(out["chunks"] / rate / 3600, 1)
        rng = np.random.default_rng(0)
        with con:
            ids = [r[0] for r in con.execute("SELECT id FROM chunks")]
            for i in range(0, len(ids), 20000):
                v = rng.standard_normal((len(ids[i:i + 20000]), DIM)).astype(np.float32)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                con.executemany("INSERT OR REPLACE INTO embeddings(chunk_id, vec) VALUES (?, ?)",
                                [(c, to_blob(x)) for c, x in zip(ids[i:i + 20000], v)])
            store.set_meta(con, "embed_model", emb.name)
    if emb is not None:
        out["fused_vectors"] = "random unit vectors of the real shape (384 dims) for every chunk"
        t = time.perf_counter()
        if vectors.ensure_built(con):     # built on a thread of their own now; time the searches on them
            out["vector_files_build_s"] = round(time.perf_counter() - t, 1)
    con.close()
    # Query words from the vocabulary's frequent-to-middle ranks (what people type), 2-5 words each.
    qrng = random.Random(3)
    vocab = RS.scale_vocabulary()[:3000]
    qs = [" ".join(qrng.choice(vocab) for _ in range(qrng.randint(2, 5))) for _ in range(queries)]
    s = Searcher(db)
    try:
        t = time.perf_counter()
        with _PeakRSS() as mem:
            s.search("warm up", 5, "fused" if emb else "keyword")   # loads the vectors once
        out["first_search_ms"] = round((time.perf_counter() - t) * 1000, 1)
        out["peak_rss_mb_first_search"] = round(mem.peak / 2**20)
        out["load_avg_at_search"] = round(os.getloadavg()[0], 1)
        for mode in ("keyword", "embedding", "fused") if emb else ("keyword",):
            ms, cpu = [], []
            s._qvec.clear()          # every mode embeds its queries itself
            for q in qs:
                t, c = time.perf_counter(), time.process_time()
                s.search(q, 5, mode)
                ms.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
            # CPU time (all threads of this process) does not grow with the neighbours' load as wall
            # time does: on an idle machine a query's wall time is about its CPU time or less.
            out[f"search_{mode}"] = {**_pcts(ms), "cpu": _pcts(cpu)}
        out["load_avg_after_search"] = round(os.getloadavg()[0], 1)
    finally:
        s.close()
    return out


def format_section(r: dict | None) -> list[str]:
    """The retrieval section of the printed bench report."""
    if not r:
        return []
    q, sc = r.get("quality") or {}, r.get("scale") or {}
    out = ["", f"Document retrieval ({q.get('questions')} labelled questions; mode {q.get('mode')})"]
    for mode in ("keyword", "embedding", "fused"):
        m = (q.get(mode) or {}).get("all") or {}
        para = (q.get(mode) or {}).get("paraphrase") or {}
        out.append(f"  {mode:<10} recall@5 {m.get('recall@5')}  MRR {m.get('mrr')}  "
                   f"(paraphrased questions: recall@5 {para.get('recall@5')}, MRR {para.get('mrr')})")
    if sc:
        out.append(f"  scale: {sc.get('files')} files / {sc.get('mb')} MB indexed at {sc.get('files_per_s')} files/s, "
                   f"{sc.get('mb_per_s')} MB/s, peak RSS {sc.get('peak_rss_mb_indexing')} MB; {sc.get('chunks')} passages")
        for mode in ("keyword", "embedding", "fused"):
            s_ = sc.get(f"search_{mode}")
            if s_:
                c = s_.get("cpu") or {}
                out.append(f"  search {mode}: p50 {s_['p50_ms']} ms, p95 {s_['p95_ms']} ms "
                           f"(CPU time p50 {c.get('p50_ms')} ms, p95 {c.get('p95_ms')} ms)")
    return out


def _scale_size(quick: bool) -> tuple[int, float]:
    env = os.environ.get("BESTBOX_BENCH_DOCS_SCALE")
    if env:
        f, mb = env.split(":")
        return int(f), float(mb)
    return (500, 50.0) if quick else (5000, 500.0)


async def bench_retrieval(ctx) -> dict:
    quick = bool(getattr(ctx.opt, "quick", False))
    n, mb = _scale_size(quick)
    log = getattr(ctx.opt, "log", print)

    def work():
        with tempfile.TemporaryDirectory(prefix="bestbox-retrieval-") as d:
            q = quality(Path(d))
            return {"quality": q, "scale": scale(Path(d), n, mb, log=log),
                    "machine_cores": os.cpu_count()}

    return await asyncio.get_running_loop().run_in_executor(None, work)


def main(argv=None) -> int:
    import argparse
    import json

    p = argparse.ArgumentParser(prog="python -m bestbox.bench.retrieval")
    p.add_argument("--files", type=int, default=500)
    p.add_argument("--mb", type=float, default=50.0)
    p.add_argument("--quality-only", action="store_true")
    p.add_argument("--out", help="also write the JSON here")
    p.add_argument("--work", help="keep the corpus and index in this folder; a later run with the same folder "
                                  "measures the search again without rebuilding them")
    p.add_argument("--scale-only", action="store_true")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bestbox-retrieval-") as d:
        res = {} if a.scale_only else {"quality": quality(Path(d))}
        if not a.quality_only:
            work = Path(a.work) if a.work else Path(d)
            work.mkdir(parents=True, exist_ok=True)
            res["scale"] = scale(work, a.files, a.mb)
    text = json.dumps(res, indent=2)
    print(text)
    if a.out:
        Path(a.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
