"""Backends: where the data live (NumPy/SciPy, array API, Dask, files on disk)."""
