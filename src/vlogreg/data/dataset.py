"""``Dataset``: what a data file gives the command line (X, y, ids, how to read it again)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Dataset:
    """Features, labels and how to read the same features again.

    Attributes
    ----------
    X : ndarray (m, n) float64 or scipy.sparse CSR matrix
    y : ndarray (m,) or None
    feature_names : list of str
    ids : ndarray (m,) or None
        The ``--id`` column.
    input : dict
        Stored in the model file (``training.input``): the columns, one-hot categories
        or array layout that ``read_data`` needs to rebuild X for this model.
    dropped : ndarray (m_file,) bool or None
        The file's rows left out for a missing value (``--missing drop``); X, y and ids
        hold the others.
    file_ids : ndarray (m_file,) or None
        With ``dropped``: the id column of every row of the file.
    notes : list of str
        Warnings about the training columns (ids, constants).
    blocks : dict {column: (start, stop, is_category)}
        The columns of X that each file column became.
    """

    X: object
    y: object = None
    feature_names: list = field(default_factory=list)
    ids: object = None
    input: dict = field(default_factory=dict)
    dropped: object = None
    file_ids: object = None
    notes: list = field(default_factory=list)
    blocks: dict = field(default_factory=dict)
