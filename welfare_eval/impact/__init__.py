"""Impact estimators behind one result shape (welfare_eval.results.Estimate / EstimateTable)."""
from .staggered import att_gt, goodman_bacon, staggered_did
from .weighting import aipw, ipw, naive

__all__ = ["aipw", "att_gt", "goodman_bacon", "ipw", "naive", "staggered_did"]
