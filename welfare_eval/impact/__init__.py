"""Impact estimators behind one result shape (welfare_eval.results.Estimate / EstimateTable)."""
from . import inference
from .matching import matching
from .rd import rd
from .regression import did, event_study, regression
from .staggered import att_gt, goodman_bacon, staggered_did
from .table import RegressionTable, table
from .weighting import aipw, ipw, naive

__all__ = ["inference", "aipw", "att_gt", "did", "event_study", "goodman_bacon", "ipw", "matching", "naive", "rd",
           "regression", "staggered_did", "table", "RegressionTable"]
