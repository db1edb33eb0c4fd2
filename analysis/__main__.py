"""``python -m analysis PATH``: run the analysis on a Pol.is export (folder or zip) or a math fixture folder.

Writes one JSON document (to stdout, or ``--out FILE``)::

    {"participants", "statements", "votes", "k", "in_conv": [...], "groups": {pid: gid},
     "projection": {pid: [x, y]}, "repness": {gid: [{statement_id, repful_for, n_success, n_trials,
     p_success, p_test, repness, repness_test}]}, "consensus": {"agree": [...], "disagree": [...]},
     "group_aware_consensus": {sid: x}, "priorities": {sid: x}, "k_scores": {k: score}, "k_tied": bool,
     "bridging": {sid: x}, "bridging_interval": {sid: [low, high]}, "headline": [sid, ...], "headline_jr": bool,
     "headline_left_out": {sid: number of participants left out}, "mode": "single" | "replay", "steps", "seconds"}

Ids are strings in JSON keys. ``participants``, ``statements`` and ``votes`` are counts (current votes, one per
participant and statement); ``seconds`` is the analysis wall time (reading the files excluded). Statements with
``moderated == -1`` are passed as ``mod_out``, meta statements as ``meta``.

By default the analysis runs once, cold, on the final votes. ``--replay`` instead re-runs it over the vote history
in time order (one run per ``--batch`` votes, default 1000, or per ``--interval`` seconds of vote time), each run
warm-started from the previous one, as Pol.is computed while the conversation was live. Exports without vote
timestamps (only ``participants-votes.csv``) always get a single run.

Why single is the default: adjusted Rand index against Pol.is's ``group-id`` on the six openData conversations
with vote timestamps (seattle, austria-climate, bg2050, brexit, london, vtaiwan), mean over the six:

    single run 0.650 | replay, steps of 100 votes 0.651, 1000 votes 0.677, 1 hour 0.622, 1 day 0.595, 1 week 0.652

The single run is closer than 1000-vote replay on 3 conversations, replay on 1 (brexit: 0.90 vs 0.55), 2 ties;
replay's figures swing with the step size (brexit 0.29-0.90, seattle 0.27-0.88), so its small lead in the mean is
within that noise and came from picking the best of five steps on the same data. The single run is as close,
stable and 3-100x cheaper. ``tests/analysis/test_real_conversations.py`` prints the current figures
(``PARTICIPATE_MEASURE_REPLAY=1`` adds replay).

Bad input exits with status 2 and a one-line message naming the file and row.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analysis import AnalysisResult, replay, run_analysis
from analysis.polis_io import PolisExport, PolisFormatError, read_conversation

#: Default replay step: one recompute per 1000 votes (see the module docstring).
DEFAULT_BATCH = 1000
#: Default mode (see the module docstring for how it was chosen).
DEFAULT_REPLAY = False


def _number(value: float) -> float | None:
    """A JSON-safe float: NaN and infinities become null."""
    value = float(value)
    return value if math.isfinite(value) else None


def run(
    export: PolisExport,
    *,
    use_replay: bool = DEFAULT_REPLAY,
    batch: int | None = DEFAULT_BATCH,
    interval: float | None = None,
    random_state: int = 0,
) -> tuple[AnalysisResult, str, int]:
    """Analyse ``export``: (final result, "single" or "replay", number of runs)."""
    latest = export.latest()
    if len(latest) == 0:
        raise PolisFormatError(export.source or "input", None, "no votes to analyse")
    if use_replay and export.votes.has_timestamps:
        history = export.votes
        steps = 0
        result: AnalysisResult | None = None
        for result in replay(  # noqa: B007 - only the last step is kept
            (history.participant_ids, history.statement_ids, history.values, history.timestamps),
            batch=None if interval is not None else batch,
            interval=interval,
            mod_out=export.mod_out,
            meta=export.meta,
            random_state=random_state,
        ):
            steps += 1
        assert result is not None
        return result, "replay", steps
    # The full history in time order: the last vote per pair wins, and first-vote order (which the cold starts
    # use, like Pol.is's arrival order) is kept.
    result = run_analysis(export.votes.as_arrays(), mod_out=export.mod_out, meta=export.meta, random_state=random_state)
    return result, "single", 1


def result_to_json(result: AnalysisResult, *, n_votes: int, mode: str, steps: int, seconds: float) -> dict:
    """The CLI's JSON document for one result (ids as strings in keys)."""
    projection = result.participant_projection
    return {
        "participants": len(result.participant_ids),
        "statements": len(result.statement_ids),
        "votes": n_votes,
        "k": result.k,
        "in_conv": [int(p) for p in result.in_conv],
        "groups": {str(int(p)): g.id for g in result.groups for p in g.members},
        "projection": {
            str(int(p)): [_number(projection[i, 0]), _number(projection[i, 1])]
            for i, p in enumerate(result.participant_ids)
        },
        "repness": {
            str(gid): [
                {
                    "statement_id": r.statement_id,
                    "repful_for": r.repful_for,
                    "n_success": r.n_success,
                    "n_trials": r.n_trials,
                    "p_success": _number(r.p_success),
                    "p_test": _number(r.p_test),
                    "repness": _number(r.repness),
                    "repness_test": _number(r.repness_test),
                }
                for r in reps
            ]
            for gid, reps in sorted(result.repness.items())
        },
        "consensus": {
            side: [
                {
                    "statement_id": c.statement_id,
                    "n_success": c.n_success,
                    "n_trials": c.n_trials,
                    "p_success": _number(c.p_success),
                    "p_test": _number(c.p_test),
                }
                for c in getattr(result.consensus, side)
            ]
            for side in ("agree", "disagree")
        },
        "group_aware_consensus": {str(s): _number(x) for s, x in result.group_aware_consensus.items()},
        "priorities": {str(s): _number(x) for s, x in result.priorities.items()},
        "k_scores": {str(k): _number(v) for k, v in result.k_scores.items()},
        "k_tied": bool(result.k_tied),
        "bridging": {str(s): _number(x) for s, x in result.bridging.items()},
        "bridging_interval": {str(s): [_number(lo), _number(hi)] for s, (lo, hi) in result.bridging_interval.items()},
        "headline": [int(s) for s in result.headline],
        "headline_jr": bool(result.headline_jr),
        "headline_left_out": {str(s): len(p) for s, p in result.headline_left_out.items()},
        "mode": mode,
        "steps": steps,
        "seconds": round(seconds, 6),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Run the Participate analysis (Pol.is math) on a Pol.is export or math fixture; write JSON.",
    )
    parser.add_argument("path", type=Path, help="Pol.is export folder or zip, or a math-fixture folder")
    parser.add_argument("--out", type=Path, help="write the JSON here instead of stdout")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--replay",
        dest="replay",
        action="store_true",
        default=DEFAULT_REPLAY,
        help="replay the votes in time order with warm starts" + (" (default)" if DEFAULT_REPLAY else ""),
    )
    mode.add_argument(
        "--no-replay",
        dest="replay",
        action="store_false",
        help="one run on the final votes" + ("" if DEFAULT_REPLAY else " (default)"),
    )
    step = parser.add_mutually_exclusive_group()
    step.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        help=f"replay step in number of votes (default {DEFAULT_BATCH})",
    )
    step.add_argument("--interval", type=float, help="replay step in seconds of vote time instead of votes")
    parser.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    return parser


def _fail(message: str) -> int:
    print("error: " + " ".join(str(message).split()), file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.interval is not None and not args.interval > 0:
        return _fail(f"--interval must be > 0, got {args.interval:g}")
    if args.batch is not None and args.batch < 1:
        return _fail(f"--batch must be >= 1, got {args.batch}")
    try:
        export = read_conversation(args.path)
        started = time.perf_counter()
        result, mode, steps = run(
            export,
            use_replay=args.replay,
            interval=args.interval,
            batch=args.batch,
            random_state=args.random_state,
        )
        seconds = time.perf_counter() - started
    except PolisFormatError as exc:
        return _fail(str(exc))
    document: dict[str, Any] = result_to_json(
        result, n_votes=len(export.latest()), mode=mode, steps=steps, seconds=seconds
    )
    text = json.dumps(document, ensure_ascii=False, allow_nan=False)
    if args.out is None:
        sys.stdout.write(text + "\n")
        return 0
    try:
        args.out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        return _fail(f"{args.out}: cannot write ({exc.strerror or exc})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
