"""What the benchmark scripts share: where the project and the shared data are, and the data's attribution.

A script run as ``.venv/bin/python bench/<name>.py`` has this folder first on ``sys.path``, so ``bench/analysis.py``
would shadow the ``analysis`` package the benchmarks measure. Importing this module (before anything of the project)
puts the project root there instead.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PARTICIPATE_SHARED_DATA") or ROOT.parent / "shared" / "data")
#: The real Pol.is conversations (compdemocracy/openData), one export folder each.
POLIS = SHARED_DATA / "polis"
#: Their licence's attribution, shown by the ``--help`` of the scripts that read them.
ATTRIBUTION = (
    'Data: compdemocracy/openData, CC BY 4.0. "Data was gathered using the Polis software (compdemocracy.org/polis) '
    'and is sub-licensed under CC BY 4.0 with Attribution to The Computational Democracy Project."'
)

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
