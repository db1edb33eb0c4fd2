"""Participate's analysis: a pure re-implementation of the Pol.is math (see polis-math.md).

**Vote sign convention (stated once, used everywhere): agree = +1, disagree = -1, pass = 0; a missing cell means
"not seen".** Pol.is stores agree as -1 internally; conversion happens only at import/export (``polis_io``).

Public API: :func:`run_analysis`, :func:`replay`, :class:`AnalysisResult` and its parts. The list of deliberate
divergences from Pol.is is in :mod:`analysis.pipeline`'s docstring. This package imports only numpy, scipy,
scikit-learn and the standard library.
"""

from .clustering import KSmoother
from .pipeline import ALGORITHM_VERSION, AnalysisResult, GroupVotes, OpinionGroup, replay, run_analysis
from .stats import Consensus, ConsensusStatement, Repness

__all__ = [
    "ALGORITHM_VERSION",
    "AnalysisResult",
    "Consensus",
    "ConsensusStatement",
    "GroupVotes",
    "KSmoother",
    "OpinionGroup",
    "Repness",
    "replay",
    "run_analysis",
]
