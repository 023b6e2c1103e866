"""Small numba building blocks: a software prefetch and branch-free exp / log1p.

Without Intel's SVML (not shipped with numba's wheels) ``math.exp`` and ``math.log1p``
are scalar libm calls that LLVM cannot vectorize, and on 1M rows they cost as much as
reading X. These versions use only +, *, / and integer bit tricks over a small block,
so LLVM turns them into SIMD code. Accuracy: a few ulp in float64 and float32 over the
range the log-loss needs (arguments <= 0 for exp, [0, 1] for log1p).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, flat_index):
    """Hint the CPU to load ``arr.flat[flat_index]`` into cache (read, high locality).

    The index is not bounds-checked, and needs not be: a prefetch never faults.
    """
    if not isinstance(arr, types.Array) or not isinstance(flat_index, types.Integer):
        return None
    sig = types.void(arr, flat_index)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0),
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


def exp_constants(dtype):
    """(int dtype, exponent bias, mantissa bits, Taylor degree, lowest argument)."""
    if np.dtype(dtype) == np.float32:
        return np.int32, 127, 23, 7, -87.0
    return np.int64, 1023, 52, 13, -708.0


def log1p_terms(dtype):
    """Number of odd terms of the atanh series for log1p on [0, 1] (s <= 1/3)."""
    return 9 if np.dtype(dtype) == np.float32 else 18
