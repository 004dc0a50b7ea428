"""Report runs: notebooks executed by papermill, HTML for readers, manifest and index."""
from .strings import LANGUAGES, both, fmt_number, fmt_pct, fmt_rp, show, t

__all__ = ["LANGUAGES", "both", "fmt_number", "fmt_pct", "fmt_rp", "show", "t"]
