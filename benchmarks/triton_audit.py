"""Registers and spills of the Triton kernels, compiled for an H100 (sm_90) without one.

    python benchmarks/triton_audit.py [--arch 90] [--sweep]

For each width n, dtype and mode (loss+gradient, Hessian-vector product) it compiles
the kernel of ``triton_binary.plan`` with Triton's own compiler and runs Triton's ptxas
``-v`` on the PTX: registers per thread, spill stores/loads (bytes per thread), and a
model of the memory parallelism: programs per SM by registers and the
KiB of X they request at once. ``--sweep`` also tries BLOCK_M x num_warps for n = 100
(the benchmark's width): the grid gpu_check.py times on a GPU. Needs only triton
(Linux); prints Markdown tables. Spills are local-memory traffic on top of X's one
read, so the default plan is chosen among the configurations with none; which of those
is fastest only a GPU can say.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

#: (BLOCK_M, num_warps) tried by --sweep here and timed by gpu_check.py
SWEEP = [(bm, w) for bm in (4, 8, 16, 32, 64) for w in (2, 4, 8)]


def ptxas_report(kernel, arch):
    import triton

    ptxas = glob.glob(os.path.join(os.path.dirname(triton.__file__),
                                   "backends", "nvidia", "bin", "ptxas"))[0]
    with tempfile.TemporaryDirectory() as d:
        ptx = os.path.join(d, "k.ptx")
        with open(ptx, "w") as f:
            f.write(kernel.asm["ptx"])
        out = subprocess.run([ptxas, "-v", f"--gpu-name=sm_{arch}a", ptx, "-o",
                              os.path.join(d, "k.cubin")], capture_output=True,
                             text=True).stderr
    regs = int(re.search(r"Used (\d+) registers", out).group(1))
    st, ld = map(int, re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads",
                                out).groups())
    return regs, st, ld


def occupancy(regs, num_warps, tile_bytes, sms=132):
    """Programs per SM on an H100 (132 SMs) by registers (65536 per SM, allocated 8 at
    a time, 64 warps, 32 blocks) and by the grid (at most ``MAX_PROGRAMS`` programs),
    and the bytes of X they request at once: a model of the memory parallelism, not a
    measurement."""
    from vlogreg._kernels import triton_binary as tb

    per_prog = -(-regs // 8) * 8 * 32 * num_warps
    progs = min(65536 // per_prog, 64 // num_warps, 32, -(-tb.MAX_PROGRAMS // sms))
    return progs, progs * tile_bytes // 1024


def row(cfg, n, itemsize, hessp, arch):
    from vlogreg._kernels import triton_binary as tb

    k = tb.compile_for(cfg, n, itemsize, hessp=hessp, arch=arch)
    regs, st, ld = ptxas_report(k, arch)
    progs, kib = occupancy(regs, cfg["num_warps"], cfg["BLOCK_M"] * cfg["BLOCK_N"] * itemsize)
    return (f"| {n} | float{8 * itemsize} | {'hessp' if hessp else 'loss+grad'} | "
            f"{cfg['kernel']} | {cfg['BLOCK_M']} x {cfg['BLOCK_N']} | {cfg['num_warps']} | "
            f"{regs} | {st} / {ld} | {progs} | {kib} |")


HEADER = ("| n | dtype | mode | kernel | tile | warps | registers | spill st / ld (B) "
          "| programs / SM | KiB of X in flight / SM |\n|---|---|---|---|---|---|---|---|---|---|")


def main(argv=None):
    from vlogreg._kernels import triton_binary as tb
    from vlogreg._kernels import triton_multi as tm

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", type=int, default=90)
    ap.add_argument("--sweep", action="store_true")
    args = ap.parse_args(argv)
    print(HEADER)
    for n in (1, 8, 28, 100, 256, 300, 1000):
        for itemsize in (4, 8):
            for hessp in (False, True):
                print(row(tb.plan(10_000_000, n, itemsize), n, itemsize, hessp, args.arch),
                      flush=True)
    print("\nMultinomial kernel (triton_multi):\n")
    print("| n | K | dtype | tile | warps | registers | spill st / ld (B) | programs / SM "
          "| KiB of X in flight / SM |\n|---|---|---|---|---|---|---|---|---|")
    for n, k in ((4, 3), (64, 10), (100, 3), (100, 10), (28, 64), (256, 16)):
        for itemsize in (4, 8):
            cfg = tm.plan(10_000_000, n, k, itemsize)
            regs, st, ld = ptxas_report(tm.compile_for(cfg, n, k, itemsize, arch=args.arch),
                                        args.arch)
            progs, kib = occupancy(regs, cfg["num_warps"],
                                   cfg["BLOCK_M"] * cfg["BLOCK_N"] * itemsize)
            print(f"| {n} | {k} | float{8 * itemsize} | {cfg['BLOCK_M']} x {cfg['BLOCK_N']} "
                  f"x {cfg['BLOCK_K']} | {cfg['num_warps']} | {regs} | {st} / {ld} | {progs} "
                  f"| {kib} |", flush=True)
    if args.sweep:  # gpu_check.py's tuning grid
        print("\nSweep, n = 100, loss+grad (gpu_check.py times the same grid):\n")
        print(HEADER)
        for itemsize in (4, 8):
            for bm, warps in SWEEP:
                cfg = tb.plan(10_000_000, 100, itemsize, block_m=bm, num_warps=warps)
                print(row(cfg, 100, itemsize, False, args.arch), flush=True)


if __name__ == "__main__":
    main()
