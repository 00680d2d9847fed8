#!/usr/bin/env python3
"""faiss-cpu IndexHNSWFlat on the identify-scale vectors, for comparison with Faceprint's HNSW.

The vectors are the ones `index-open ... fill` writes (DB.base.f32: the gallery, N x DIM
float32; DB.query.f32: every LFW probe), so both indexes see the same data. Same graph settings
as Faceprint's default (M 16, so 32 links on layer 0; efConstruction 100), inner product.

    python3 benches/compare/faiss_hnsw.py scale.db 1000000 256 --threads 1,2 --ef 16,32,64,128,256

Prints one JSON object: build seconds per thread count, memory per vector (process growth
while building), and per efSearch the top-5 search p50/p99 (one query at a time, one thread)
with recall@1 against an exact search over the same ~1,070-probe sample identify-scale uses.
"""

import argparse
import json
import os
import time

import faiss
import numpy as np


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db", help="the prefix index-open fill wrote (DB.base.f32, DB.query.f32)")
    ap.add_argument("n", type=int)
    ap.add_argument("dim", type=int)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--ef", default="16,32,64,128,256")
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=100)
    a = ap.parse_args()

    base = np.fromfile(a.db + ".base.f32", dtype=np.float32, count=a.n * a.dim).reshape(a.n, a.dim)
    queries = np.fromfile(a.db + ".query.f32", dtype=np.float32).reshape(-1, a.dim)
    # The same sample as ScaleData::probe_sample: every (len / 1000)-th probe.
    step = max(len(queries) // 1000, 1)
    sample = np.ascontiguousarray(queries[::step])

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    exact = faiss.IndexFlatIP(a.dim)
    exact.add(base)
    _, truth = exact.search(sample, 1)
    del exact

    report = {"faiss": faiss.__version__, "n": a.n, "dim": a.dim, "m": a.m,
              "ef_construction": a.ef_construction, "probes": len(queries),
              "probes_sampled": len(sample), "build": []}
    index = None
    for threads in [int(t) for t in a.threads.split(",")]:
        index = None
        faiss.omp_set_num_threads(threads)
        before = rss_bytes()
        t = time.perf_counter()
        index = faiss.IndexHNSWFlat(a.dim, a.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = a.ef_construction
        index.add(base)
        secs = time.perf_counter() - t
        grown = rss_bytes() - before
        report["build"].append({"threads": threads, "seconds": secs,
                                "rss_growth_bytes_per_vector": grown / a.n})
        print(json.dumps(report["build"][-1]), flush=True)

    faiss.omp_set_num_threads(1)
    runs = []
    for ef in [int(e) for e in a.ef.split(",")]:
        index.hnsw.efSearch = ef
        lat = []
        for q in queries:
            q = q.reshape(1, -1)
            t = time.perf_counter()
            index.search(q, 5)
            lat.append((time.perf_counter() - t) * 1e3)
        _, got = index.search(sample, 1)
        lat.sort()
        runs.append({"ef_search": ef, "p50_ms": lat[len(lat) // 2],
                     "p99_ms": lat[int(round((len(lat) - 1) * 0.99))],
                     "recall_at_1_vs_exact": float((got[:, 0] == truth[:, 0]).mean())})
        print(json.dumps(runs[-1]), flush=True)
    report["search_top5"] = runs
    print(json.dumps(report))


if __name__ == "__main__":
    main()
