"""Data files: row sources for out-of-core fits, the command line's table readers.

``open_source(path)`` opens a ``.npy`` file, a Parquet file or folder, or a Zarr array
as a row source that ``LogisticRegression.fit`` streams chunk by chunk;
``memory_budget()`` is the size above which the command line streams a file.
"""

from .sources import memory_budget, open_source

__all__ = ["memory_budget", "open_source"]
