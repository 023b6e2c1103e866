"""What the Triton kernels share: the kernel cache, the grid, the launch checks and the
ahead-of-time compile (``triton_binary`` and ``triton_multi`` both use them)."""

from __future__ import annotations

import triton
import triton.language as tl

#: at most this many programs (a few per SM on an H100: 132 SMs); fixed, not queried
MAX_PROGRAMS = 1024
#: row blocks between the one-tile kernel's reductions of x dz over rows
FLUSH = 8
#: bytes of X per row block: the largest tile without register spills at n <= 256 for
#: either dtype in ptxas's report for sm_90 (benchmarks/triton_audit.py); with the
#: earlier 32 KiB float64 spilled 1.5 KB per thread at n = 100. Which tile is fastest,
#: gpu_check.py measures
TILE_BYTES = 16 * 1024

_CACHE = {}


def _kernel(fn, interpret):
    """The kernel function ``fn`` compiled (CUDA) or interpreted (CPU tensors), made
    once per mode (also serves ``triton_multi``)."""
    key = (fn, interpret)
    if key not in _CACHE:
        if interpret:
            from triton.runtime.interpreter import InterpretedFunction

            _CACHE[key] = InterpretedFunction(fn)
        else:
            _CACHE[key] = triton.jit(fn)
    return _CACHE[key]


def grid(m, unit, max_programs=MAX_PROGRAMS):
    """``(rows_per_prog, n_programs)``: m rows in whole units of ``unit`` rows over at
    most ``max_programs`` programs (depends on m and unit only: determinism)."""
    units = -(-m // unit)
    rows_per_prog = -(-units // max(1, min(int(max_programs), units))) * unit
    return rows_per_prog, -(-m // rows_per_prog)


def why_not(X):
    """None if the kernel takes the torch tensor X, else the reason (a sentence)."""
    import torch

    if not isinstance(X, torch.Tensor):
        return f"X is a {type(X).__module__}.{type(X).__name__}, not a torch tensor"
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        return f"X has shape {tuple(X.shape)}, not (m > 0, n > 0)"
    if X.dtype not in (torch.float32, torch.float64):
        return f"X has dtype {X.dtype}, not float32 or float64"
    if X.is_sparse or X.layout != torch.strided:
        return "X is sparse"
    return None



def cannot_take(X):
    """None if a fused kernel can run on the torch tensor X here, else why (a phrase)."""
    reason = why_not(X)
    if reason is None and X.device.type != "cuda" and not interpretable():
        reason = (f"X is on {X.device.type}: off a GPU the kernel runs in Triton's "
                  f"interpreter, which needs TRITON_INTERPRET=1 set before triton is "
                  f"imported")
    return reason


def aot_compile(fn, pointers, kwargs, num_warps, arch=90):
    """Compile the kernel ``fn`` for an NVIDIA GPU ``sm_<arch>`` without one (Triton's
    own ptxas), specialized as the JIT does at run time.

    ``pointers``: the types of the first arguments up to ``P`` (then ``m``: i32);
    ``kwargs``: ``ROWS_PER_PROG`` and the constexprs, as at launch. torch's buffers are
    16-byte aligned and the JIT marks integers divisible by 16: both hints are what
    let the loads be 16-byte vectors, so they are given here too.
    """
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    fn = _kernel(fn, False)
    const = dict(kwargs)
    rows_per_prog = const.pop("ROWS_PER_PROG")
    sig = dict(pointers, m="i32", ROWS_PER_PROG="i32")
    sig.update(dict.fromkeys(const, "constexpr"))
    aligned = {(i,): [["tt.divisibility", 16]] for i in range(len(pointers))}
    if rows_per_prog % 16 == 0:
        aligned[(len(pointers) + 1,)] = [["tt.divisibility", 16]]
    src = ASTSource(fn=fn, signature=sig, attrs=aligned,
                    constexprs={(fn.arg_names.index(k),): v for k, v in const.items()})
    return triton.compile(src, target=GPUTarget("cuda", arch, 32),
                          options={"num_warps": num_warps})


def interpretable():
    """True where triton.language was imported in interpreter mode (TRITON_INTERPRET=1)."""
    from triton.runtime.jit import JITFunction

    return not isinstance(tl.zeros, JITFunction)
