"""numba intrinsics the kernels need and numba lacks: a software prefetch, and a BLAS
gemm on blocks of an array with explicit offsets and leading dimensions.

(The kernels' exp and log1p are polynomial series in ``numba_binary``: without Intel's
SVML, ``math.exp`` and ``math.log1p`` are scalar libm calls that LLVM cannot vectorize.)
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _make_prefetch(locality, where):
    @intrinsic
    def prefetch(typingctx, arr, flat_index):
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
                              ir.Constant(i32, locality), ir.Constant(i32, 1)])
            return context.get_dummy_value()

        return sig, codegen

    prefetch.__doc__ = (f"Hint the CPU to load ``arr.flat[flat_index]`` into {where} (a "
                        "read). The index is not bounds-checked, and needs not be: a "
                        "prefetch never faults.")
    return prefetch


#: into L1 (x86 ``prefetcht0``): data needed within the next few hundred cycles
prefetch = _make_prefetch(3, "L1 and the caches below it")
#: into L2, not L1 (``prefetcht1``): a tile that lives in L2 while an earlier one is
#: being computed, without evicting the rows in use from L1
prefetch_l2 = _make_prefetch(2, "L2 (not L1)")


@intrinsic
def gemm(typingctx, transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """Fortran BLAS ``C = op(A) op(B) + beta C`` (``op``: ``ord('n')`` or ``ord('t')``)
    on the memory from the first element of the arrays ``a``, ``b``, ``c`` (views of
    any layout: a block of rows of a C- or F-ordered X is an operand without a copy),
    with explicit leading dimensions, in the arrays' dtype.

    Calls numba's own wrapper of scipy's ``cython_blas`` (looked up at run time, so
    the compiled kernel can be cached).
    """
    if not all(isinstance(t, types.Array) for t in (a, b, c)) \
            or a.dtype not in (types.float32, types.float64) \
            or b.dtype != a.dtype or c.dtype != a.dtype:
        return None
    from numba.np.linalg import check_blas_return, ensure_blas

    ensure_blas()
    kind = "s" if a.dtype == types.float32 else "d"
    sig = types.void(transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc)

    def codegen(context, builder, signature, args):
        (ta, tb, m_, n_, k_, a_, lda_, b_, ldb_, beta_, c_, ldc_) = args
        tys = signature.args
        i8, i8p = ir.IntType(8), ir.IntType(8).as_pointer()
        intp = context.get_value_type(types.intp)
        dt = a.dtype

        def as_intp(v, ty):
            return context.cast(builder, v, ty, types.intp)

        def data(ary_v, ary_t):
            return builder.bitcast(context.make_array(ary_t)(context, builder, ary_v).data,
                                   i8p)

        alpha = cgutils.alloca_once_value(builder, context.get_constant(dt, 1.0))
        beta_slot = cgutils.alloca_once_value(builder, context.cast(builder, beta_, tys[9], dt))
        fnty = ir.FunctionType(ir.IntType(32), [i8, i8, i8, intp, intp, intp, i8p, i8p,
                                                intp, i8p, intp, i8p, i8p, intp])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        res = builder.call(fn, (
            ir.Constant(i8, ord(kind)),
            builder.trunc(as_intp(ta, tys[0]), i8), builder.trunc(as_intp(tb, tys[1]), i8),
            as_intp(m_, tys[2]), as_intp(n_, tys[3]), as_intp(k_, tys[4]),
            builder.bitcast(alpha, i8p), data(a_, tys[5]), as_intp(lda_, tys[6]),
            data(b_, tys[7]), as_intp(ldb_, tys[8]),
            builder.bitcast(beta_slot, i8p), data(c_, tys[10]), as_intp(ldc_, tys[11])))
        check_blas_return(context, builder, res)
        return context.get_dummy_value()

    return sig, codegen
