"""Fused one-read loss + gradient of the binary log-loss on a GPU, written in Triton.

For the rows of X (m, n) that a program owns, block of ``BLOCK_M`` rows by block:

    z_k   = x_k . w + b                          (X's dtype, in registers)
    e_k   = exp(-|z_k|)                          (one exp, never overflows)
    loss += s_k (max(z_k, 0) - y_k z_k + log1p(e_k))
    dz_k  = s_k ((z_k >= 0 ? 1 : e_k) / (1 + e_k) - y_k)
    dw   += sum_k dz_k x_k,   db += sum_k dz_k

and, with the constexpr ``HESSP``, the data term of a Hessian-vector product in the
same one read: ``z_k = x_k . v + v_b``, ``dz_k = h_k z_k`` with the curvature weights
``h = s a (1 - a) / S`` in place of ``y`` (Newton-CG's products, the power iteration).

Two kernels:

* ``n <= ONE_TILE_MAX_N``: the whole row block [BLOCK_M, BLOCK_N >= n] is loaded once
  into registers and serves both products: a true one-read kernel;
* larger n: two loops over column tiles of the same rows (the second one reads from
  L2/L1), the per-program gradient kept in its own row of the partials buffer.

Determinism, no atomics: the grid (``plan``) depends on (m, n, dtype) only; each program
writes its own row of ``partials`` [n_programs, n + 2] (dw, db, loss) in float64, and
torch adds the rows. float32 X: products, the elementwise maths and the gradient's sum
over ``FLUSH`` row blocks in float32, but each row's loss summed in float64
(``max(z, 0) - y z`` is exact for y in {0, 1}, so the row's error is log1p's rounding,
not ulp(|z|) as in a float32 sum) and every sum across flush groups and programs in
float64. (float32 fits end within float32's own noise of the float64 optimum, set by
the rounding of z = x . w: on 1000 x 8 and 2000 x 20 data, median 8e-7 and max 1e-4
relative, as the CPU kernel's.)

Per call only ``n + 1`` floats go to the device (w, b) and ``n + 2`` come back.

On CPU tensors the kernels run in Triton's interpreter (NumPy), where triton was
imported with ``TRITON_INTERPRET=1`` (``interpretable()``): that is how the tests check
them on machines without a GPU. The kernels are decorated lazily, per mode (compiled or
interpreted). ``N``, the strides and the tile sizes are compile-time constants (a new
width compiles a new kernel, about a second); the rows per program are not (a new m
compiles nothing).
"""

from __future__ import annotations

import numpy as np
import triton
import triton.language as tl

from .triton_common import (  # noqa: F401
    FLUSH,
    MAX_PROGRAMS,
    TILE_BYTES,
    _kernel,
    aot_compile,
    cannot_take,
    grid,
    interpretable,
    why_not,
)

#: widest n served by the one-tile (single read, all in registers) kernel
ONE_TILE_MAX_N = 256
#: column tile of the multi-tile kernel
MULTI_BLOCK_N = 128

#: kernel launches made, for tests that check the estimator went through the kernel
n_calls = 0


def _logistic_terms(z, y, s):
    """Per row, from ``z`` in X's dtype: the weighted loss (float64) and ``dz``.

    ``loss = s (max(z, 0) - y z + log1p(e))`` with ``e = exp(-|z|)`` (one exp, never
    overflows), summed in float64: ``max(z, 0) - y z`` is exact for y in {0, 1}, so the
    row's error is log1p's rounding; ``dz = s (a - y)``, ``a = (z >= 0 ? 1 : e) / (1 + e)``.
    A device function of both kernels (``triton.jit`` at the end of this module).
    """
    e = tl.exp(-tl.abs(z))
    u = 1.0 + e  # log1p(e) = log(u) e / (u - 1), exact where u rounds to 1
    d = tl.where(u == 1.0, 1.0, u - 1.0)
    log1p_e = tl.where(u == 1.0, e, tl.log(u) * (e / d))
    loss = s.to(tl.float64) * ((tl.maximum(z, 0.0) - y * z).to(tl.float64)
                               + log1p_e.to(tl.float64))
    a = tl.where(z >= 0, 1.0, e) / u
    return loss, s * (a - y)


def _fused_one_tile(X, Y, S, WB, P, m, ROWS_PER_PROG, N: tl.constexpr,
                    SXM: tl.constexpr, SXN: tl.constexpr,
                    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HESSP: tl.constexpr,
                    FLUSH: tl.constexpr):
    # ROWS_PER_PROG is a multiple of BLOCK_M * FLUSH
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    cmask = cols < N
    w = tl.load(WB + cols, mask=cmask, other=0.0)
    b = tl.load(WB + N)
    acc_w = tl.zeros([BLOCK_N], dtype=tl.float64)
    acc_b = tl.zeros([BLOCK_M], dtype=tl.float64)
    acc_l = tl.zeros([BLOCK_M], dtype=tl.float64)
    start = pid.to(tl.int64) * ROWS_PER_PROG  # int64: m may pass 2^31 rows
    end = tl.minimum(start + ROWS_PER_PROG, m)
    for r0 in range(0, ROWS_PER_PROG, BLOCK_M * FLUSH):
        # x dz is accumulated elementwise in the tile's own layout and reduced over
        # rows (across warps) once per FLUSH blocks, not once per block
        acc_x = tl.zeros([BLOCK_M, BLOCK_N], dtype=WB.dtype.element_ty)
        for r1 in range(0, BLOCK_M * FLUSH, BLOCK_M):
            rows = start + r0 + r1 + tl.arange(0, BLOCK_M)
            rmask = rows < end
            ptrs = X + rows.to(tl.int64)[:, None] * SXM + cols[None, :] * SXN
            x = tl.load(ptrs, mask=rmask[:, None] & cmask[None, :], other=0.0)
            z = tl.sum(x * w[None, :], axis=1) + b
            yv = tl.load(Y + rows, mask=rmask, other=0.0)
            if HESSP:  # Y holds h = s a (1 - a) / S, WB (v, v_b): dz = h (X~ v)
                dz = yv * z
                dz64 = dz.to(tl.float64)
                loss = tl.zeros_like(dz64)
            else:
                sv = tl.load(S + rows, mask=rmask, other=0.0)  # 0 on padding rows
                loss, dz = _logistic_terms(z, yv, sv)
                dz64 = dz.to(tl.float64)
            acc_x += x * dz[:, None]
            acc_b += dz64
            acc_l += loss
        acc_w += tl.sum(acc_x, axis=0).to(tl.float64)
    prow = P + pid * (N + 2)
    tl.store(prow + cols, acc_w, mask=cmask)
    tl.store(prow + N, tl.sum(acc_b, axis=0))
    tl.store(prow + N + 1, tl.sum(acc_l, axis=0))


def _fused_tiles(X, Y, S, WB, P, m, ROWS_PER_PROG, N: tl.constexpr,
                 SXM: tl.constexpr, SXN: tl.constexpr,
                 BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HESSP: tl.constexpr):
    # P's rows must be zero: each program adds its row blocks' gradients into its row
    pid = tl.program_id(0)
    prow = P + pid * (N + 2)
    acc_b = tl.zeros([BLOCK_M], dtype=tl.float64)
    acc_l = tl.zeros([BLOCK_M], dtype=tl.float64)
    b = tl.load(WB + N)
    start = pid.to(tl.int64) * ROWS_PER_PROG  # int64: m may pass 2^31 rows
    end = tl.minimum(start + ROWS_PER_PROG, m)
    for r0 in range(0, ROWS_PER_PROG, BLOCK_M):
        rows = start + r0 + tl.arange(0, BLOCK_M)
        rmask = rows < end
        rbase = X + rows.to(tl.int64)[:, None] * SXM
        z = tl.zeros([BLOCK_M], dtype=WB.dtype.element_ty)
        for c0 in range(0, N, BLOCK_N):
            cols = c0 + tl.arange(0, BLOCK_N)
            cmask = cols < N
            x = tl.load(rbase + cols[None, :] * SXN, mask=rmask[:, None] & cmask[None, :],
                        other=0.0)
            w = tl.load(WB + cols, mask=cmask, other=0.0)
            z += tl.sum(x * w[None, :], axis=1)
        z += b
        yv = tl.load(Y + rows, mask=rmask, other=0.0)
        if HESSP:
            dz = yv * z
            dz64 = dz.to(tl.float64)
            loss = tl.zeros_like(dz64)
        else:
            sv = tl.load(S + rows, mask=rmask, other=0.0)
            loss, dz = _logistic_terms(z, yv, sv)
            dz64 = dz.to(tl.float64)
        acc_b += dz64
        acc_l += loss
        for c0 in range(0, N, BLOCK_N):  # the same rows again: from cache
            cols = c0 + tl.arange(0, BLOCK_N)
            cmask = cols < N
            x = tl.load(rbase + cols[None, :] * SXN, mask=rmask[:, None] & cmask[None, :],
                        other=0.0)
            g = tl.sum(x * dz[:, None], axis=0).to(tl.float64)
            old = tl.load(prow + cols, mask=cmask, other=0.0)
            tl.store(prow + cols, old + g, mask=cmask)
            tl.debug_barrier()  # the program's next read of its row sees this write
    tl.store(prow + N, tl.sum(acc_b, axis=0))
    tl.store(prow + N + 1, tl.sum(acc_l, axis=0))


_RAW = {"one_tile": _fused_one_tile, "tiles": _fused_tiles}


def plan(m, n, itemsize, *, block_m=None, num_warps=None):
    """Launch configuration for X (m, n): depends on (m, n, itemsize) only (determinism).

    ``block_m`` / ``num_warps`` override the defaults (gpu_check.py's tuning sweep).
    Returns a dict: kernel name, BLOCK_M, BLOCK_N, rows_per_prog, n_programs, num_warps.
    """
    if n <= ONE_TILE_MAX_N:
        name, block_n = "one_tile", max(16, triton.next_power_of_2(n))
    else:
        name, block_n = "tiles", MULTI_BLOCK_N
    if block_m is None:  # the multi-tile kernel keeps more live: half the tile
        tile = TILE_BYTES if name == "one_tile" else TILE_BYTES // 2
        block_m = min(256, max(8, tile // itemsize // block_n))
    if num_warps is None:
        num_warps = 8 if block_m * block_n >= 2048 else 4
    flush = FLUSH if name == "one_tile" else 1
    rows_per_prog, n_programs = grid(m, block_m * flush)  # whole flush groups
    return {"kernel": name, "BLOCK_M": block_m, "BLOCK_N": block_n, "FLUSH": flush,
            "rows_per_prog": rows_per_prog, "n_programs": n_programs,
            "num_warps": num_warps}


def _launch_args(cfg, n, hessp, strides):
    """The kernel's keyword arguments: ROWS_PER_PROG (run time) and the constexprs."""
    out = {"ROWS_PER_PROG": cfg["rows_per_prog"], "N": n, "SXM": strides[0],
           "SXN": strides[1], "BLOCK_M": cfg["BLOCK_M"], "BLOCK_N": cfg["BLOCK_N"],
           "HESSP": bool(hessp)}
    if cfg["kernel"] == "one_tile":
        out["FLUSH"] = cfg["FLUSH"]
    return out


def compile_for(cfg, n, itemsize, *, hessp=False, arch=90):
    """Compile the kernel of ``plan``'s ``cfg`` for ``sm_<arch>`` without a GPU: the
    compiled kernel (``.asm["ptx"]``, ``["cubin"]``).

    What the interpreter cannot check: that the kernel compiles, and (with ptxas -v on
    its PTX, see benchmarks/triton_audit.py) its registers and spills.
    """
    t = "*fp32" if itemsize == 4 else "*fp64"
    return aot_compile(_RAW[cfg["kernel"]], {"X": t, "Y": t, "S": t, "WB": t, "P": "*fp64"},
                       _launch_args(cfg, n, hessp, (n, 1)), cfg["num_warps"], arch)


class FusedBinary:
    """The loss+gradient of the binary log-loss over a fixed torch tensor X.

    ``X`` (m, n) float32/float64 torch tensor, CUDA (compiled) or CPU (interpreted), any
    strides (never copied); ``y``, ``s`` (m,) tensors of X's dtype on X's device.
    ``fb(w, b)`` with host ``w`` (n,) and float ``b`` returns
    ``(sum_i s_i loss_i, dw = X^T dz (n,) float64 NumPy, db = sum dz)``.
    """

    def __init__(self, X, y, s, *, max_programs=None, block_m=None, num_warps=None):
        import torch

        reason = cannot_take(X)
        if reason is not None:
            raise ValueError(f"the Triton kernel cannot take X: {reason}.")
        self.X, self.m, self.n = X, X.shape[0], X.shape[1]
        self.y = y.to(X.dtype).contiguous()
        self.s = s.to(X.dtype).contiguous()
        self.interpret = X.device.type != "cuda"
        cfg = plan(self.m, self.n, X.element_size(), block_m=block_m, num_warps=num_warps)
        if max_programs is not None:  # tests: several row blocks per program
            cfg["rows_per_prog"], cfg["n_programs"] = grid(
                self.m, cfg["BLOCK_M"] * cfg["FLUSH"], max_programs)
        self.cfg = cfg
        self.partials = torch.zeros((cfg["n_programs"], self.n + 2), dtype=torch.float64,
                                    device=X.device)
        self._np_dtype = np.float32 if X.dtype == torch.float32 else np.float64
        self._h = None  # (the caller's curvature h, h in X's dtype) of the last hessp

    def launch(self, wb, Y, S, hessp=False):
        """The kernel alone on device vectors: ``wb`` (n + 1,) = (w, b) in X's dtype.

        Fills ``self.partials``; no host transfer, no sum (what benchmarks time).
        """
        global n_calls
        cfg = self.cfg
        if cfg["kernel"] == "tiles":
            self.partials.zero_()
        kernel = _kernel(_RAW[cfg["kernel"]], self.interpret)
        kernel[(cfg["n_programs"],)](
            self.X, Y, S, wb, self.partials, self.m,
            **_launch_args(cfg, self.n, hessp, self.X.stride()), num_warps=cfg["num_warps"])
        n_calls += 1

    def _launch(self, w, b, Y, S, hessp):
        """(w, b) to the device, one launch, the n + 2 summed partials to the host."""
        import torch

        n = self.n
        wb = np.empty(n + 1, dtype=self._np_dtype)
        wb[:n] = np.asarray(w, dtype=np.float64).ravel()
        wb[n] = b
        self.launch(torch.from_numpy(wb).to(self.X.device), Y, S, hessp)
        return self.partials.sum(dim=0).cpu().numpy()

    def __call__(self, w, b=0.0):
        total = self._launch(w, b, self.y, self.s, False)
        n = self.n
        return float(total[n + 1]), total[:n].copy(), float(total[n])

    def hessp(self, v, vb, h):
        """The Hessian-vector product's data term in one read of X: ``(X^T r, sum r)``.

        ``r = h (X v + vb)``; ``h`` (m,) the curvature weights ``s a (1 - a) / S`` on
        X's device (a torch tensor, or any DLPack array such as CuPy's), ``v`` (n,) and
        ``vb`` on the host. Returns ``(ndarray (n,) float64, float)``.
        """
        import torch

        if self._h is None or self._h[0] is not h:  # Newton-CG: one h, many products
            hx = h if isinstance(h, torch.Tensor) else torch.from_dlpack(h)
            self._h = (h, hx.to(self.X.dtype).contiguous())
        total = self._launch(v, vb, self._h[1], self._h[1], True)
        return total[: self.n].copy(), float(total[self.n])


def loss_grad(X, y, s, w, b=0.0, *, max_programs=None):
    """One fused loss+gradient: ``(sum_i s_i loss_i, X^T dz, sum dz)``, ``dz = s (a - y)``.

    ``X`` a float32/float64 torch tensor (CUDA: compiled; CPU: Triton's interpreter),
    ``y`` labels in {0, 1} and ``s`` weights (None: ones), as torch tensors or NumPy
    arrays; ``w`` (n,) and ``b`` on the host. Returns ``(float, ndarray (n,), float)``.
    """
    import torch

    def dev(a, fill=None):
        if a is None:
            return torch.full((X.shape[0],), fill, dtype=X.dtype, device=X.device)
        return torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a,
                               dtype=X.dtype, device=X.device)

    return FusedBinary(X, dev(y), dev(s, 1.0), max_programs=max_programs)(w, b)


# the kernels call _logistic_terms by name: a device function when compiled, the plain
# Python function in the interpreter (which runs the kernels' Python with tl patched)
if not interpretable():
    _logistic_terms = triton.jit(_logistic_terms)
