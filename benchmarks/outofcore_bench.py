"""Out-of-core fit from a float32 .npy file larger than memory: pass speed against the
disk's sequential read speed, and peak memory.

    # once, by hand (never in CI): a float32 file of 48 GiB, labels in the last column
    python benchmarks/outofcore_bench.py --make /data/big.npy --gib 48 --features 100
    # the benchmark
    python benchmarks/outofcore_bench.py --data /data/big.npy [--solver lbfgs]
                                         [--max-iter 10] [--chunk-mib 64]

The disk's sequential read speed is measured in the same run, on the same file (64 MiB
reads of its first --probe-gib GiB). Before every timed read or pass the file's pages
are dropped from the page cache (posix_fadvise DONTNEED), so a file smaller than memory
is read from the disk too; the target case is a file at least twice the RAM, where the
cache cannot help anyway. Each pass of the fit is timed (the checking pass of ``fit``
first, then one per solver evaluation); peak memory is the process's peak resident
set (ru_maxrss), reported with the chunk size and ``memory_budget()``. Linux only.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import sys
import time
import warnings

import numpy as np

GiB = 1 << 30


def make_file(path, gib, features, seed=0):
    """A float32 (m, features + 1) .npy file of about ``gib`` GiB, written by blocks."""
    m = int(gib * GiB) // ((features + 1) * 4)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                    shape=(m, features + 1))
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(features) / np.sqrt(features)
    step = max(1, (256 << 20) // ((features + 1) * 4))
    for r0 in range(0, m, step):
        r1 = min(m, r0 + step)
        X = rng.standard_normal((r1 - r0, features), dtype=np.float32)
        out[r0:r1, :features] = X
        out[r0:r1, features] = X @ w + rng.logistic(size=r1 - r0) > 0
        out.flush()
    del out
    print(f"wrote {path}: {m} x {features + 1} float32, {os.path.getsize(path) / GiB:.1f} "
          f"GiB")


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def disk_speed(path, gib):
    """Bytes per second of plain sequential 64 MiB reads of the file's first ``gib`` GiB."""
    drop_cache(path)
    buf = bytearray(64 << 20)
    limit, done = int(gib * GiB), 0
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while done < limit:
            n = f.readinto(buf)
            if not n:
                break
            done += n
    return done / (time.perf_counter() - t0)


def ram_bytes():
    with open("/proc/meminfo") as f:
        return int(next(ln for ln in f if ln.startswith("MemTotal")).split()[1]) * 1024


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--make", metavar="PATH", help="write a benchmark file and exit")
    p.add_argument("--gib", type=float, default=48.0)
    p.add_argument("--features", type=int, default=100)
    p.add_argument("--data", metavar="PATH", help="the .npy file to fit (labels last)")
    p.add_argument("--solver", default="lbfgs")
    p.add_argument("--max-iter", type=int, default=10)
    p.add_argument("--chunk-mib", type=int, default=64)
    p.add_argument("--probe-gib", type=float, default=8.0)
    args = p.parse_args(argv)
    if args.make:
        return make_file(args.make, args.gib, args.features)
    if not args.data:
        p.error("pass --data PATH (or --make PATH to write one)")

    from vlogreg import LogisticRegression
    from vlogreg._outofcore import StreamChunks, memory_budget, open_source

    size, ram = os.path.getsize(args.data), ram_bytes()
    speed = disk_speed(args.data, args.probe_gib)
    source = open_source(args.data, target=-1, chunk_bytes=args.chunk_mib << 20)
    passes = []
    inner = StreamChunks.map_sum

    def timed(self, op, *a):  # drop the cache, then time one pass
        drop_cache(args.data)
        t0 = time.perf_counter()
        out = inner(self, op, *a)
        passes.append((op, time.perf_counter() - t0, self.indices is None))
        return out

    StreamChunks.map_sum = timed
    real_iter = source.iter_row_chunks

    def checking_pass(indices=None):  # fit's first pass (the checks) goes through here
        if not passes and indices is None:
            drop_cache(args.data)
            t0 = time.perf_counter()
            yield from real_iter(indices)
            passes.append(("checks", time.perf_counter() - t0, True))
        else:
            yield from real_iter(indices)

    source.iter_row_chunks = checking_pass
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(solver=args.solver, max_iter=args.max_iter).fit(source,
                                                                                  None)
    total = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    print(f"Command: `python {' '.join(map(shlex.quote, sys.argv))}`  ")
    print(f"File: {args.data}, {size / GiB:.1f} GiB float32 ({source.shape[0]} x "
          f"{source.shape[1]} + labels) = {size / ram:.2f} x RAM ({ram / GiB:.1f} GiB)"
          f"{'' if size >= 2 * ram else ' (SMALLER than 2 x RAM: not the target case)'}  ")
    print(f"Disk sequential read: {speed / 1e9:.2f} GB/s ({args.probe_gib:g} GiB probe). "
          f"Chunks: {source.n_chunks} of {source.chunk_bytes / 2**20:.0f} MiB. "
          f"memory_budget(): {memory_budget() / GiB:.1f} GiB.  ")
    print(f"Fit: solver={args.solver}, {model.n_iter_[0]} iterations, {total:.1f} s; peak "
          f"RSS {peak / 2**20:.0f} MiB (before fit {rss0 / 2**20:.0f} MiB).\n")
    print("| pass | kind | seconds | GB/s | % of disk speed |")
    print("|---:|---|---:|---:|---:|")
    full = []
    for i, (op, t, whole) in enumerate(passes):
        if whole:
            full.append(size / t)
        gbs = f"{size / t / 1e9:.2f}" if whole else "(sample)"
        pct = f"{100 * size / t / speed:.0f}%" if whole else ""
        print(f"| {i} | {op} | {t:.2f} | {gbs} | {pct} |")
    if full:
        med = float(np.median(full))
        print(f"\nMedian full pass: {med / 1e9:.2f} GB/s = {100 * med / speed:.0f}% of the "
              f"disk's sequential read speed (target: >= 70%).")


if __name__ == "__main__":
    main()
