"""Out-of-core passes over a float32 .npy file larger than memory: pass speed against the
disk's sequential read speed measured in the same run, and memory held.

    # once, by hand (never in CI): X float32 (m, 100) of 48 GiB, labels (int8) beside it
    python benchmarks/outofcore_bench.py --make /tmp/ooc/big.npy --gib 48 --features 100
    # the benchmark (on a shared machine: under the benchmark lock)
    python benchmarks/outofcore_bench.py --data /tmp/ooc/big.npy [--passes 3]
                                         [--chunk-mib 64] [--fit-iter 0]

``--make`` writes X with a fixed seed from a linear model (``y = [x.w + logistic noise >
0]``), by 128 MiB blocks; the labels go to ``<name>.labels.npy`` (a file with the labels
as its last column, without that file, is read with ``target=-1``).

The disk's sequential read speed is measured in the same run on the same file, before
and after the passes (the faster of the two is the reference): plain ``readinto`` of
64 MiB buffers over ``--probe-gib`` GiB (default 0: the whole file), with
``POSIX_FADV_SEQUENTIAL`` and the pages dropped before and behind the reads
(``POSIX_FADV_DONTNEED``), as the passes read. Every timed pass starts
with the cache dropped too: a pass reads the disk, never memory. Timed: the checking
pass of ``fit`` (``vlogreg.backends.outofcore.prepare``), ``--passes`` loss+gradient passes of the
out-of-core objective (``value_and_grad``, what every solver evaluation is), and
optionally a fit of ``--fit-iter`` L-BFGS iterations. Memory: the process's resident set
is sampled every 20 ms during the passes; the peak above the level before them (labels
already loaded, kernel compiled) is what streaming holds. Linux only. Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import threading
import time
import warnings

import numpy as np

GiB = 1 << 30


def labels_path(path):
    return path[:-4] + ".labels.npy"


def make_file(path, gib, features, seed=0):
    """X float32 (m, features) of about ``gib`` GiB in ``path``, labels int8 beside it."""
    m = int(gib * GiB) // (features * 4)
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal(features) * 3 / np.sqrt(features)).astype(np.float32)
    y = np.lib.format.open_memmap(labels_path(path), mode="w+", dtype=np.int8, shape=(m,))
    step = max(1, (128 << 20) // (features * 4))
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False,
                                                 "shape": (m, features)})
        for r0 in range(0, m, step):
            X = rng.standard_normal((min(m, r0 + step) - r0, features), dtype=np.float32)
            y[r0:r0 + len(X)] = X @ w + rng.logistic(size=len(X)).astype(np.float32) > 0
            f.write(memoryview(X).cast("B"))
    y.flush()
    del y
    print(f"wrote {path}: {m} x {features} float32, {os.path.getsize(path) / GiB:.2f} GiB;"
          f" labels in {labels_path(path)}")


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def disk_speed(path, gib):
    """Bytes per second of plain sequential 64 MiB ``readinto`` calls (uncached), read
    the way the passes read: ``POSIX_FADV_SEQUENTIAL``, pages dropped behind."""
    drop_cache(path)
    buf = bytearray(64 << 20)
    limit, done = (int(gib * GiB) if gib > 0 else os.path.getsize(path)), 0
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while done < limit:
            n = f.readinto(buf)
            if not n:
                break
            os.posix_fadvise(f.fileno(), done, n, os.POSIX_FADV_DONTNEED)
            done += n
    dt = time.perf_counter() - t0
    drop_cache(path)
    return done / dt, done


def meminfo(key):
    with open("/proc/meminfo") as f:
        return int(next(ln for ln in f if ln.startswith(key + ":")).split()[1]) * 1024


def rss():
    with open("/proc/self/status") as f:
        return int(next(ln for ln in f if ln.startswith("VmRSS:")).split()[1]) * 1024


class PeakRSS:
    """The peak resident set, sampled every ``dt`` seconds by a thread."""

    def __init__(self, dt=0.02):
        self.dt, self.peak, self._stop = dt, rss(), threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.wait(self.dt):
            self.peak = max(self.peak, rss())

    def stop(self):
        self._stop.set()
        self._t.join()
        return max(self.peak, rss())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--make", metavar="PATH", help="write a benchmark file and exit")
    p.add_argument("--gib", type=float, default=48.0)
    p.add_argument("--features", type=int, default=100)
    p.add_argument("--data", metavar="PATH", help="the float32 .npy file of X")
    p.add_argument("--passes", type=int, default=3, help="timed loss+gradient passes")
    p.add_argument("--fit-iter", type=int, default=0, help="also time an L-BFGS fit")
    p.add_argument("--chunk-mib", type=int, default=64)
    p.add_argument("--probe-gib", type=float, default=0.0, help="0: the whole file")
    args = p.parse_args(argv)
    if args.make:
        return make_file(args.make, args.gib, args.features)
    if not args.data:
        p.error("pass --data PATH (or --make PATH to write one)")

    from vlogreg import LogisticRegression
    from vlogreg.objective.logistic import LogisticObjective
    from vlogreg.data.sources import memory_budget, open_source
    from vlogreg.backends.outofcore import prepare

    size, ram = os.path.getsize(args.data), meminfo("MemTotal")
    has_labels = os.path.exists(labels_path(args.data))
    y = np.load(labels_path(args.data)) if has_labels else None  # in memory: 1 B / row
    source = open_source(args.data, target=None if has_labels else -1,
                         chunk_bytes=args.chunk_mib << 20)
    n = source.shape[1]
    # compile the kernel before anything is timed or measured
    Xw = np.random.default_rng(0).standard_normal((1 << 14, n)).astype(source.dtype)
    LogisticObjective(Xw, (Xw[:, 0] > 0).astype(float)).value_and_grad(np.zeros(n + 1))
    del Xw

    speed1, probed = disk_speed(args.data, args.probe_gib)
    speed = speed1
    rss0 = rss()
    mon = PeakRSS()
    rows = []  # (what, seconds, bytes)

    def timed(what, fn):
        drop_cache(args.data)
        t0 = time.perf_counter()
        out = fn()
        rows.append((what, time.perf_counter() - t0, size))
        return out

    est = LogisticRegression(solver="lbfgs", max_iter=max(1, args.fit_iter))
    obj = timed("checks (fit's first pass)",
                lambda: prepare(source, y, None, est._fit_spec())).objective
    theta = np.random.default_rng(1).standard_normal(obj.n_params) * 0.1
    for i in range(args.passes):
        f, g = timed(f"loss+gradient {i + 1}", lambda: obj.value_and_grad(theta))
    fit_line = ""
    if args.fit_iter:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            drop_cache(args.data)
            t0 = time.perf_counter()
            model = est.fit(source, y)
            t_fit = time.perf_counter() - t0
        fit_line = (f"Fit: lbfgs, max_iter={args.fit_iter}: {model.n_iter_[0]} iterations "
                    f"in {t_fit:.1f} s.  \n")
    peak = mon.stop()
    speed2, _ = disk_speed(args.data, args.probe_gib)  # again: the disk may drift
    speed = max(speed, speed2)  # the ratios use the faster of the two probes

    print(f"Command: `python {' '.join(map(shlex.quote, sys.argv))}`  ")
    print(f"Machine: {os.cpu_count()} CPUs, RAM {ram / GiB:.1f} GiB. File: {args.data}, "
          f"{size / GiB:.1f} GiB float32 ({source.shape[0]} x {n}; labels "
          f"{'int8 in ' + labels_path(args.data) if has_labels else 'last column'}) = "
          f"{size / ram:.2f} x RAM"
          f"{'' if size >= 2 * ram else ' (SMALLER than 2 x RAM: not the target case)'}.  ")
    print(f"Disk sequential read (64 MiB readinto, uncached, {probed / GiB:.1f} GiB, "
          f"before and after the passes): {speed1 / 1e6:.0f} and {speed2 / 1e6:.0f} MB/s; "
          f"the ratios use {speed / 1e6:.0f} MB/s. Chunks: {source.n_chunks} of "
          f"{source.chunk_bytes / 2**20:.0f} MiB. memory_budget(): "
          f"{memory_budget() / GiB:.1f} GiB.  ")
    print(fit_line + f"Resident memory: {rss0 / 2**20:.0f} MiB before the passes, peak "
          f"{peak / 2**20:.0f} MiB during them: +{(peak - rss0) / 2**20:.0f} MiB for "
          f"streaming {size / GiB:.0f} GiB.\n")
    print("| pass | seconds | MB/s | % of disk speed |")
    print("|---|---:|---:|---:|")
    for what, t, nbytes in rows:
        print(f"| {what} | {t:.1f} | {nbytes / t / 1e6:.0f} | "
              f"{100 * nbytes / t / speed:.0f}% |")
    vg = [nb / t for what, t, nb in rows if what.startswith("loss")]
    if vg:
        med = float(np.median(vg))
        print(f"\nMedian loss+gradient pass: {med / 1e6:.0f} MB/s = {100 * med / speed:.0f}%"
              f" of the disk's sequential read speed (target: >= 70%).")


if __name__ == "__main__":
    main()
