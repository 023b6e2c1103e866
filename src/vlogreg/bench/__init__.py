"""Benchmarks against the peers: problems, one adapter per library, a side-by-side runner.

Used by ``vlogreg bench peers`` (a small set, under 2 minutes) and by
``benchmarks/run.py`` (the full set, written to docs/benchmarks.md). Nothing here is
a test: nothing asserts a time.
"""
