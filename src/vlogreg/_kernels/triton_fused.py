"""The fused Triton kernel for a fit, chosen by the number of classes and X's shape."""

from __future__ import annotations

from . import triton_multi
from .triton_binary import FusedBinary
from .triton_common import cannot_take


def fused_for(X, y, s, *, force=False, n_classes=2):
    """A fused kernel for an array-API X (torch, or CuPy through DLPack), or None.

    ``FusedBinary`` for two classes (``y`` the 0/1 labels in X's dtype);
    ``triton_multi.FusedMultinomial`` for more (``y`` the class indices, int32) where
    it serves the shape (``triton_multi.serves``). Not forced: only for a float32/float64
    X on a CUDA device whose rows are contiguous (``X.stride(1) == 1``; other layouts
    are better served by cuBLAS's two products). Forced (``VLOGREG_KERNEL=triton`` or
    ``kernel="triton"``): any strided float torch tensor, CPU ones through Triton's
    interpreter; ValueError where it cannot run. ``y``, ``s``: on X's device.
    """
    try:
        import torch

        if type(X).__module__.split(".")[0] == "cupy":  # zero-copy views
            X, y, s = torch.from_dlpack(X), torch.from_dlpack(y), torch.from_dlpack(s)
    except Exception as exc:  # no torch, or a DLPack exchange that fails
        if force:
            raise ValueError(f"the Triton kernel cannot view X as a torch tensor "
                             f"({exc}).") from None
        return None
    reason = cannot_take(X)
    if reason is None and n_classes > 2:
        if not triton_multi.serves(X.shape[1], n_classes):
            reason = (f"the multinomial kernel serves n <= {triton_multi.MAX_N} features, "
                      f"K <= {triton_multi.MAX_K} classes and n x K <= "
                      f"{triton_multi.MAX_NK} once padded to powers of two")
    if reason is not None:
        if force:
            raise ValueError(f"the Triton kernel cannot take X: {reason}.")
        return None
    if not force and (X.device.type != "cuda" or (X.stride(1) != 1 and X.shape[1] > 1)):
        return None
    if n_classes > 2:
        return triton_multi.FusedMultinomial(X, y, s, n_classes)
    return FusedBinary(X, y, s)
