"""Names that the command line offers as choices, kept apart from the code behind them.

``vlogreg --help`` builds every parser; importing the solvers or the inference package
for their names would load NumPy and SciPy first. The packages use these tuples as the
one list of their names (``vlogreg.solvers.SOLVERS`` is keyed by ``SOLVER_NAMES``).
"""

#: the solvers of ``vlogreg.solvers.SOLVERS``, in their order
SOLVER_NAMES = ("gd", "agd", "lbfgs", "newton")

#: the covariance types of ``vlogreg.inference.summary``
COV_TYPES = ("nonrobust", "HC0", "cluster")
