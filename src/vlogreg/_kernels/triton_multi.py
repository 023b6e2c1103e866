"""Fused one-read loss + gradient of the multinomial log-loss on a GPU, in Triton.

For the rows of X (m, n) that a program owns, block of ``BLOCK_M`` rows by block, with
W (n, K) and b (K,) held in registers for the whole launch:

    Z      = X_blk W + b                        (a [BLOCK_M, K] product, IEEE precision)
    loss  += s_i (logsumexp(Z_i) - Z_i,y_i)      (shifted by the row's max)
    dZ     = s_i (softmax(Z_i) - onehot(y_i))
    dW    += X_blk^T dZ,   db += sum_i dZ_i

One read of X per call (``n <= MAX_N``; wider X takes the two-product path). Both
products are ``tl.dot`` with ``input_precision="ieee"``: full float32 (never tf32,
whose 10-bit mantissa gives gradients ~1e-3 off) or float64. ``tl.dot`` needs every
dimension >= 16, so K is padded to ``BLOCK_K >= 16`` with masked classes
(``Z = -inf``: no probability, no gradient).

Determinism and transfers as in ``triton_binary``: each program writes its own row of
``partials`` [n_programs, n K + K + 1] (dW row-major as coef's (n, K) layout, db,
loss) in float64, added by torch in a fixed order; per call ``(n + 1) K`` floats go to
the device and ``(n + 1) K + 1`` come back. ``y`` is a vector of class indices
(int32), not a one-hot matrix: 4 bytes per row. The softmax and ``dZ`` are in X's
dtype; each row's loss and every sum across row blocks in float64.
"""

from __future__ import annotations

import numpy as np
import triton
import triton.language as tl

from .triton_common import FLUSH, TILE_BYTES, _kernel, aot_compile, cannot_take, grid

#: widest X served (the row block and W stay in registers)
MAX_N = 256
#: most classes served
MAX_K = 64
#: most padded W entries (BLOCK_N x BLOCK_K): W, dW's float32 and float64 accumulators
#: are held per program; beyond this ptxas spills (256 x 64: 1.4-1.9 KB per thread)
MAX_NK = 4096

n_calls = 0


def _fused_multi(X, Y, S, WB, P, m, ROWS_PER_PROG, N: tl.constexpr,
                 K: tl.constexpr, SXM: tl.constexpr, SXN: tl.constexpr,
                 BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                 FLUSH: tl.constexpr):
    # ROWS_PER_PROG is a multiple of BLOCK_M * FLUSH; WB = (W row-major (N, K), b (K,))
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    cmask = cols < N
    ks = tl.arange(0, BLOCK_K)
    kmask = ks < K
    W = tl.load(WB + cols[:, None] * K + ks[None, :], mask=cmask[:, None] & kmask[None, :],
                other=0.0)
    b = tl.load(WB + N * K + ks, mask=kmask, other=0.0)
    acc_w = tl.zeros([BLOCK_N, BLOCK_K], dtype=tl.float64)
    acc_b = tl.zeros([BLOCK_K], dtype=tl.float64)
    acc_l = tl.zeros([BLOCK_M], dtype=tl.float64)
    start = pid.to(tl.int64) * ROWS_PER_PROG  # int64: m may pass 2^31 rows
    end = tl.minimum(start + ROWS_PER_PROG, m)
    for r0 in range(0, ROWS_PER_PROG, BLOCK_M * FLUSH):
        acc_x = tl.zeros([BLOCK_N, BLOCK_K], dtype=WB.dtype.element_ty)
        for r1 in range(0, BLOCK_M * FLUSH, BLOCK_M):
            rows = start + r0 + r1 + tl.arange(0, BLOCK_M)
            rmask = rows < end
            x = tl.load(X + rows.to(tl.int64)[:, None] * SXM + cols[None, :] * SXN,
                        mask=rmask[:, None] & cmask[None, :], other=0.0)
            z = tl.dot(x, W, input_precision="ieee") + b[None, :]
            z = tl.where(kmask[None, :], z, float("-inf"))
            z = z - tl.max(z, axis=1)[:, None]  # padding rows: z = b, finite
            ez = tl.exp(z)  # 0 for the masked classes
            norm = tl.sum(ez, axis=1)
            yi = tl.load(Y + rows, mask=rmask, other=0)
            onehot = (yi[:, None] == ks[None, :]).to(z.dtype)
            sv = tl.load(S + rows, mask=rmask, other=0.0)  # 0 on padding rows
            zy = tl.sum(tl.where(onehot > 0, z, 0.0), axis=1)
            acc_l += sv.to(tl.float64) * (tl.log(norm).to(tl.float64) - zy.to(tl.float64))
            dz = (ez / norm[:, None] - onehot) * sv[:, None]
            acc_x += tl.dot(tl.trans(x), dz, input_precision="ieee")
            acc_b += tl.sum(dz, axis=0).to(tl.float64)
        acc_w += acc_x.to(tl.float64)
    prow = P + pid * (N * K + K + 1)
    tl.store(prow + cols[:, None] * K + ks[None, :], acc_w,
             mask=cmask[:, None] & kmask[None, :])
    tl.store(prow + N * K + ks, acc_b, mask=kmask)
    tl.store(prow + N * K + K, tl.sum(acc_l, axis=0))


def serves(n, k):
    """True where the kernel takes n features and k classes (else: two products)."""
    pad = max(16, triton.next_power_of_2(n)) * max(16, triton.next_power_of_2(k))
    return n <= MAX_N and k <= MAX_K and pad <= MAX_NK


def plan(m, n, k, itemsize, *, block_m=None, num_warps=8):
    """Launch configuration for X (m, n) and K classes: (m, n, K, itemsize) only."""
    block_n = max(16, triton.next_power_of_2(n))
    block_k = max(16, triton.next_power_of_2(k))
    if block_m is None:  # Z and dZ take registers too
        rows = TILE_BYTES // itemsize // (block_n + block_k)
        block_m = min(128, max(16, 1 << (max(rows, 1).bit_length() - 1)))
    if block_m < 16 or block_m & (block_m - 1):
        raise ValueError(f"block_m={block_m}: tl.dot needs a power of two >= 16.")
    rows_per_prog, n_programs = grid(m, block_m * FLUSH)
    return {"BLOCK_M": block_m, "BLOCK_N": block_n, "BLOCK_K": block_k, "FLUSH": FLUSH,
            "rows_per_prog": rows_per_prog, "n_programs": n_programs,
            "num_warps": num_warps}


def _launch_args(cfg, n, k, strides):
    """The kernel's keyword arguments: ROWS_PER_PROG (run time) and the constexprs."""
    return {"ROWS_PER_PROG": cfg["rows_per_prog"], "N": n, "K": k, "SXM": strides[0],
            "SXN": strides[1], "BLOCK_M": cfg["BLOCK_M"], "BLOCK_N": cfg["BLOCK_N"],
            "BLOCK_K": cfg["BLOCK_K"], "FLUSH": cfg["FLUSH"]}


class FusedMultinomial:
    """The multinomial loss+gradient over a fixed torch tensor X (m, n), K classes.

    ``y`` (m,) class indices, ``s`` (m,) weights, on X's device. ``fm(W, b)`` with host
    ``W`` (n, K) and ``b`` (K,) returns ``(sum_i s_i loss_i, dW (n K,) float64 NumPy
    row-major, db (K,))``.
    """

    def __init__(self, X, y, s, k, *, max_programs=None):
        import torch

        reason = cannot_take(X)
        if reason is None and not serves(X.shape[1], k):
            reason = (f"it serves n <= {MAX_N} features, K <= {MAX_K} classes and "
                      f"n x K <= {MAX_NK} once padded to powers of two")
        if reason is not None:
            raise ValueError(f"the Triton kernel cannot take X: {reason}.")
        self.X, self.m, self.n, self.k = X, X.shape[0], X.shape[1], int(k)
        self.y = torch.as_tensor(y, device=X.device).to(torch.int32).contiguous()
        self.s = torch.as_tensor(s, device=X.device).to(X.dtype).contiguous()
        self.interpret = X.device.type != "cuda"
        cfg = plan(self.m, self.n, self.k, X.element_size())
        if max_programs is not None:  # tests: several row blocks per program
            cfg["rows_per_prog"], cfg["n_programs"] = grid(
                self.m, cfg["BLOCK_M"] * cfg["FLUSH"], max_programs)
        self.cfg = cfg
        self.partials = torch.zeros((cfg["n_programs"], (self.n + 1) * self.k + 1),
                                    dtype=torch.float64, device=X.device)
        self._np_dtype = np.float32 if X.dtype == torch.float32 else np.float64

    def __call__(self, W, b):
        global n_calls
        import torch

        cfg, n, k = self.cfg, self.n, self.k
        wb = np.concatenate([np.asarray(W, dtype=np.float64).reshape(n * k),
                             np.asarray(b, dtype=np.float64).reshape(k)])
        wb = torch.from_numpy(wb.astype(self._np_dtype)).to(self.X.device)
        _kernel(_fused_multi, self.interpret)[(cfg["n_programs"],)](
            self.X, self.y, self.s, wb, self.partials, self.m,
            **_launch_args(cfg, n, k, self.X.stride()), num_warps=cfg["num_warps"])
        n_calls += 1
        total = self.partials.sum(dim=0).cpu().numpy()
        return float(total[-1]), total[: n * k].copy(), total[n * k: n * k + k].copy()


def compile_for(cfg, n, k, itemsize, *, arch=90):
    """Compile the kernel of ``plan``'s ``cfg`` for ``sm_<arch>`` without a GPU, as the
    JIT does at run time (see ``triton_binary.compile_for``)."""
    t = "*fp32" if itemsize == 4 else "*fp64"
    return aot_compile(_fused_multi, {"X": t, "Y": "*i32", "S": t, "WB": t, "P": "*fp64"},
                       _launch_args(cfg, n, k, (n, 1)), cfg["num_warps"], arch)
