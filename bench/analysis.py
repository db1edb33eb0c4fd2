"""Benchmark the analysis: wall time and peak memory, ours next to red-dwarf 0.4.0 on the same input.

Usage::

    .venv/bin/python bench/analysis.py [--sizes bowling-green,bowling-green-x10,20k] [--no-reddwarf] [--repeat N]
    .venv/bin/python bench/analysis.py --sizes small [--repeat N]

Sizes
    small               every real conversation in ``../shared/data/polis``: CPU seconds of one analysis in the
                        default clustering mode and in Pol.is's (``clustering_mode="polis"``), each the best of
                        ``--repeat`` runs (3 if not given) after a warm-up run, BLAS single-threaded; ends with
                        ``RESULT small_cpu_s=<total default> polis_cpu_s=<total polis>``
    bowling-green       american-assembly.bowling-green from ``../shared/data/polis`` (2,031 x 896, 225,524 votes)
    bowling-green-x10   its votes tiled 10x (participant ids offset per tile): 20,310 participants
    20k, 100k, 100k-5k, 1m  synthetic conversations with latent opinion groups (20,000 x 1,000, 100,000 x 2,000,
                        100,000 x 5,000, 1,000,000 x 5,000); each participant votes on 20-100 statements (popular
                        statements more often); ``cold`` is a first run on all votes, ``warm`` a run on all votes with
                        ``previous`` = the result on the first 95 % of the votes (in arrival order).

Each method runs in a fresh subprocess that loads its input from ``.npy`` files (data generation and loading are
excluded from the times); the subprocess reports its wall time, CPU time and its own peak
resident memory (``VmHWM`` of ``/proc/self/status``, else ``ru_maxrss``: interpreter, libraries and input
included, so ``base`` - the peak after loading the input, before the analysis - is printed too).
red-dwarf is given its native input, a list of vote dicts, built before its timer starts; it runs on the
real-data sizes and at 20k (it builds a dense matrix, so larger sizes are out of reach). Real-data sizes are
skipped with a message when the shared data is absent.

For the cold run it also prints the wall time and share of the newer steps (order-free groups with their k rule,
the bridging score, the headline list with its JR check).

Prints a table and one machine-readable line per size::

    RESULT participants=<n> statements=<n> votes=<n> cold_s=<x> warm_s=<x> peak_mib=<n> reddwarf_s=<x or na>
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench_setup import POLIS, ROOT  # first: this module would shadow the ``analysis`` package it measures

BOWLING_GREEN = POLIS / "american-assembly.bowling-green"

#: name → (participants, statements) of the synthetic sizes
SYNTHETIC = {"20k": (20_000, 1_000), "100k": (100_000, 2_000), "100k-5k": (100_000, 5_000), "1m": (1_000_000, 5_000)}
REAL = ("bowling-green", "bowling-green-x10")
ALL_SIZES = (*REAL, *SYNTHETIC, "small")
DEFAULT_SIZES = ("bowling-green", "bowling-green-x10", "20k")
#: red-dwarf builds a dense participants x statements frame; beyond this many cells it is not attempted
REDDWARF_MAX_CELLS = 25_000_000
WARM_FRACTION = 0.95


# ------------------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    """Votes in arrival order, plus the statement ids to treat as mod-out and meta."""

    name: str
    participant_ids: np.ndarray
    statement_ids: np.ndarray
    values: np.ndarray
    mod_out: np.ndarray
    meta: np.ndarray

    @property
    def n_participants(self) -> int:
        return int(np.unique(self.participant_ids).size)

    @property
    def n_statements(self) -> int:
        return int(np.unique(self.statement_ids).size)

    def save(self, folder: Path) -> None:
        """One ``.npy`` file per array (read straight into memory, no transient copy as with ``.npz``)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("participant_ids", "statement_ids", "values", "mod_out", "meta"):
            np.save(folder / f"{name}.npy", getattr(self, name))


def shared_conversation(folder: Path) -> Conversation:
    """A real conversation's current votes (the last vote per participant and statement)."""
    from analysis.polis_io import read_polis_export

    export = read_polis_export(folder)
    pids, sids, values = export.latest().as_arrays()
    return Conversation(
        name=folder.name,
        participant_ids=pids,
        statement_ids=sids,
        values=values,
        mod_out=np.array(export.mod_out, dtype=np.int64),
        meta=np.array(export.meta, dtype=np.int64),
    )


def bowling_green(tiles: int = 1) -> Conversation:
    """Bowling Green's current votes, optionally tiled with participant ids offset per tile."""
    from analysis.polis_io import read_polis_export

    export = read_polis_export(BOWLING_GREEN)
    votes = export.latest()
    pids, sids, values = votes.as_arrays()
    offset = int(pids.max()) + 1
    return Conversation(
        name="bowling-green" if tiles == 1 else f"bowling-green-x{tiles}",
        participant_ids=np.concatenate([pids + t * offset for t in range(tiles)]),
        statement_ids=np.tile(sids, tiles),
        values=np.tile(values, tiles),
        mod_out=np.array(export.mod_out, dtype=np.int64),
        meta=np.array(export.meta, dtype=np.int64),
    )


def synthetic(
    n_participants: int,
    n_statements: int,
    *,
    n_groups: int = 4,
    min_votes: int = 20,
    max_votes: int = 100,
    seed: int = 0,
    name: str = "synthetic",
) -> Conversation:
    """A conversation with latent opinion groups and realistic sparsity, votes in arrival order.

    Each participant belongs to one of ``n_groups`` latent groups (unequal sizes) and votes on 20-100 distinct
    statements, drawn with a popularity skew (early statements are seen more, as with Pol.is's priorities).
    Each statement has, per group, probabilities of agree / disagree / pass: most statements split the groups,
    some are consensus. 3 % of statements are moderated out.
    """
    rng = np.random.default_rng(seed)
    group_sizes = rng.dirichlet(np.full(n_groups, 2.0))
    group = rng.choice(n_groups, size=n_participants, p=group_sizes)
    # per-group stance on each statement: +1 agree-leaning, -1 disagree-leaning; consensus statements share it
    stance = rng.choice([-1.0, 1.0], size=(n_groups, n_statements))
    consensus = rng.random(n_statements) < 0.2
    stance[:, consensus] = stance[0, consensus]
    strength = rng.uniform(0.55, 0.9, size=(n_groups, n_statements))
    p_pass = rng.uniform(0.05, 0.25, size=n_statements)

    counts = rng.integers(min_votes, max_votes + 1, size=n_participants)
    popularity = 1.0 / np.sqrt(1.0 + np.arange(n_statements) / 20.0)
    popularity /= popularity.sum()
    # Draw with replacement, then drop repeated (participant, statement) pairs: a handful per participant.
    pids = np.repeat(np.arange(n_participants, dtype=np.int64), counts)
    sids = rng.choice(n_statements, size=pids.size, p=popularity).astype(np.int64)
    key = pids * n_statements + sids
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)
    pids, sids = pids[keep], sids[keep]

    g = group[pids]
    u = rng.random(pids.size)
    is_pass = u < p_pass[sids]
    with_stance = rng.random(pids.size) < strength[g, sids]
    direction = np.where(with_stance, stance[g, sids], -stance[g, sids])
    values = np.where(is_pass, 0, direction).astype(np.int8)
    mod_out = np.flatnonzero(rng.random(n_statements) < 0.03).astype(np.int64)
    return Conversation(name, pids, sids, values, mod_out, np.zeros(0, np.int64))


# ------------------------------------------------------------------------------------------------------------
# Workers (run in a fresh subprocess each)
# ------------------------------------------------------------------------------------------------------------


def _peak_mib() -> float:
    """This process's peak resident memory, MiB.

    Linux's ``VmHWM`` belongs to the address space created by ``execve``; ``ru_maxrss`` would instead carry over
    the high-water mark of the parent that forked us (here: the driver holding the generated data).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux and BSD: KiB (macOS: bytes)


def _worker(method: str, data: Path, repeat: int) -> dict:
    """Run one method on one input; return wall time (best of ``repeat``) and memory."""
    loaded = {name: np.load(data / f"{name}.npy") for name in ("participant_ids", "statement_ids", "values")}
    pids, sids, values = loaded["participant_ids"], loaded["statement_ids"], loaded["values"]
    mod_out, meta = np.load(data / "mod_out.npy").tolist(), np.load(data / "meta.npy").tolist()
    times: list[float] = []
    cpu: list[float] = []
    steps: dict[str, float] = {}
    if method in ("robust-cpu", "polis-cpu"):
        from threadpoolctl import threadpool_limits

        from analysis import run_analysis

        mode = method.split("-")[0]
        with threadpool_limits(1):  # CPU time of one analysis, not of a BLAS thread pool spinning on a busy machine
            result = run_analysis((pids, sids, values), mod_out=mod_out, meta=meta, clustering_mode=mode)
            base = _peak_mib()
            for _ in range(repeat):
                start, start_cpu = time.perf_counter(), time.process_time()
                result = run_analysis((pids, sids, values), mod_out=mod_out, meta=meta, clustering_mode=mode)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
        best = int(np.argmin(cpu))
        return {"seconds": times[best], "cpu_s": cpu[best], "base_mib": base, "peak_mib": _peak_mib(), "k": result.k}
    if method in ("ours-cold", "ours-warm"):
        from analysis import run_analysis

        _time_steps(steps)

        previous = None
        if method == "ours-warm":
            cut = int(len(pids) * WARM_FRACTION)
            previous = run_analysis((pids[:cut], sids[:cut], values[:cut]), mod_out=mod_out, meta=meta)
        base = _peak_mib()
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = run_analysis((pids, sids, values), mod_out=mod_out, meta=meta, previous=previous)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        k = result.k
    elif method == "reddwarf":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from reddwarf.implementations.polis import run_pipeline

            votes = [
                {"participant_id": p, "statement_id": s, "vote": v, "modified": i}
                for i, (p, s, v) in enumerate(zip(pids.tolist(), sids.tolist(), values.tolist(), strict=True))
            ]
            base = _peak_mib()
            for _ in range(repeat):
                start, start_cpu = time.perf_counter(), time.process_time()
                out = run_pipeline(votes=votes, mod_out_statement_ids=mod_out, meta_statement_ids=meta, random_state=0)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
        k = int(out.participants_df["cluster_id"].dropna().nunique())
    else:
        raise SystemExit(f"unknown method {method!r}")
    best = int(np.argmin(times))
    per_run = {name: total / repeat for name, total in steps.items()}
    return {
        "seconds": times[best],
        "cpu_s": cpu[best],
        "base_mib": base,
        "peak_mib": _peak_mib(),
        "k": k,
        "steps": per_run,
    }


def _time_steps(steps: dict[str, float]) -> None:
    """Accumulate the wall time of the newer steps (groups, bridging, headline + JR) into ``steps``, per name."""
    from analysis import bridging, groups, headline

    for name, module, attr in (
        ("groups", groups, "robust_groups"),
        ("bridging", bridging, "bridging_scores"),
        ("headline+JR", headline, "select_headline"),
    ):
        inner = getattr(module, attr)

        def timed(*args, _inner=inner, _name=name, **kwargs):
            start = time.perf_counter()
            try:
                return _inner(*args, **kwargs)
            finally:
                steps[_name] = steps.get(_name, 0.0) + time.perf_counter() - start

        setattr(module, attr, timed)


def _run_worker(method: str, data: Path, repeat: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", method, str(data), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------------------------------


def _build(size: str) -> Conversation:
    if size == "bowling-green":
        return bowling_green(1)
    if size == "bowling-green-x10":
        return bowling_green(10)
    n_p, n_c = SYNTHETIC[size]
    return synthetic(n_p, n_c, name=size)


def small(repeat: int) -> int:
    """CPU seconds of the default and of Pol.is's clustering mode on every shared conversation; the RESULT line."""
    folder = POLIS
    names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not names:
        print(f"skip small: shared Pol.is data not found at {folder} (not shipped with the project)")
        return 0
    totals = {"robust": 0.0, "polis": 0.0}
    print(
        f"{'conversation':<40}{'participants':>13}{'votes':>9} │"
        f"{'default cpu s':>14}{'k':>3} │{'polis cpu s':>12}{'k':>3}"
    )
    with tempfile.TemporaryDirectory(prefix="participate-bench-") as tmp:
        for name in names:
            conversation = shared_conversation(folder / name)
            data = Path(tmp) / name
            conversation.save(data)
            res = {mode: _run_worker(f"{mode}-cpu", data, repeat) for mode in totals}
            failed = [f"{mode}: {r['error']}" for mode, r in res.items() if "error" in r]
            if failed:
                print(f"{name}: failed ({'; '.join(failed)})")
                return 1
            for mode in totals:
                totals[mode] += res[mode]["cpu_s"]
            print(
                f"{name:<40}{conversation.n_participants:>13,}{len(conversation.values):>9,} │"
                f"{res['robust']['cpu_s']:>14.3f}{res['robust']['k']:>3} │"
                f"{res['polis']['cpu_s']:>12.3f}{res['polis']['k']:>3}",
                flush=True,
            )
    print(f"RESULT small_cpu_s={totals['robust']:.3f} polis_cpu_s={totals['polis']:.3f}")
    return 0


def _fmt(value: float | None, spec: str) -> str:
    return "na" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(DEFAULT_SIZES), help=f"comma list of {', '.join(ALL_SIZES)}")
    parser.add_argument("--no-reddwarf", action="store_true", help="skip red-dwarf")
    parser.add_argument(
        "--repeat", type=int, default=None, help="timed runs per method (best is kept; default 1, 3 for small)"
    )
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.repeat_given = args.repeat is not None
    args.repeat = args.repeat or 1
    if args.worker:
        print(json.dumps(_worker(args.worker[0], Path(args.worker[1]), args.repeat)))
        return 0

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in ALL_SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r} (choose from {', '.join(ALL_SIZES)})")
    if "small" in sizes:
        status = small(args.repeat if args.repeat_given else 3)
        sizes = [s for s in sizes if s != "small"]
        if not sizes:
            return status

    rows = []
    with tempfile.TemporaryDirectory(prefix="participate-bench-") as tmp:
        for size in sizes:
            if size in REAL and not BOWLING_GREEN.is_dir():
                print(f"skip {size}: shared Pol.is data not found at {BOWLING_GREEN} (not shipped with the project)")
                continue
            started = time.perf_counter()
            conversation = _build(size)
            data = Path(tmp) / size
            conversation.save(data)
            n_p, n_c, n_v = conversation.n_participants, conversation.n_statements, len(conversation.values)
            print(
                f"[{size}] {n_p:,} participants x {n_c:,} statements, {n_v:,} votes "
                f"(input built in {time.perf_counter() - started:.1f} s, not timed)",
                flush=True,
            )
            cold = _run_worker("ours-cold", data, args.repeat)
            warm = _run_worker("ours-warm", data, args.repeat)
            rd = None
            if not args.no_reddwarf and n_p * n_c <= REDDWARF_MAX_CELLS:
                rd = _run_worker("reddwarf", data, args.repeat)
            for label, res in (("ours cold", cold), ("ours warm", warm), ("red-dwarf", rd)):
                if res is not None and "error" in res:
                    print(f"  {label} failed: {res['error']}")
            rows.append((size, n_p, n_c, n_v, cold, warm, rd))
            if "error" not in cold and cold.get("steps"):
                share = ", ".join(
                    f"{name} {secs:.3f} s ({100 * secs / cold['seconds']:.0f}%)" for name, secs in cold["steps"].items()
                )
                print(f"  cold run's newer steps: {share}", flush=True)
            ok = [r if r is not None and "error" not in r else None for r in (cold, warm, rd)]
            print(
                f"RESULT participants={n_p} statements={n_c} votes={n_v} "
                f"cold_s={_fmt(ok[0] and ok[0]['seconds'], '.3f')} warm_s={_fmt(ok[1] and ok[1]['seconds'], '.3f')} "
                f"peak_mib={_fmt(ok[0] and ok[0]['peak_mib'], '.0f')} "
                f"reddwarf_s={_fmt(ok[2] and ok[2]['seconds'], '.3f')}",
                flush=True,
            )

    if rows:
        header = (
            f"{'size':<18}{'participants':>13}{'statements':>11}{'votes':>12} │"
            f"{'ours cold s':>12}{'cpu s':>7}{'warm s':>8}{'peak MiB':>9}{'base':>6}{'k':>3} │"
            f"{'red-dwarf s':>12}{'cpu s':>7}{'peak MiB':>9}{'base':>6}{'k':>3} │{'time x':>7}{'cpu x':>7}{'mem x':>7}"
        )
        print()
        print(header)
        print("─" * len(header))
        for size, n_p, n_c, n_v, cold, warm, rd in rows:
            c = cold if "error" not in cold else {}
            w = warm if "error" not in warm else {}
            r = rd if rd is not None and "error" not in rd else {}
            t_ratio = r["seconds"] / c["seconds"] if r and c else None
            m_ratio = r["peak_mib"] / c["peak_mib"] if r and c else None
            c_ratio = r["cpu_s"] / c["cpu_s"] if r and c and c["cpu_s"] > 0 else None
            print(
                f"{size:<18}{n_p:>13,}{n_c:>11,}{n_v:>12,} │"
                f"{_fmt(c.get('seconds'), '.2f'):>12}{_fmt(c.get('cpu_s'), '.2f'):>7}{_fmt(w.get('seconds'), '.2f'):>8}"
                f"{_fmt(c.get('peak_mib'), '.0f'):>9}{_fmt(c.get('base_mib'), '.0f'):>6}{c.get('k', '-'):>3} │"
                f"{_fmt(r.get('seconds'), '.2f'):>12}{_fmt(r.get('cpu_s'), '.2f'):>7}"
                f"{_fmt(r.get('peak_mib'), '.0f'):>9}{_fmt(r.get('base_mib'), '.0f'):>6}{r.get('k', '-'):>3} │"
                f"{_fmt(t_ratio, '.1f'):>7}{_fmt(c_ratio, '.1f'):>7}{_fmt(m_ratio, '.1f'):>7}"
            )
        print(
            "\ntime x / cpu x / mem x = red-dwarf ÷ ours (cold wall time, CPU time, peak memory)."
            " cpu s = process CPU time of the same run (all threads), a check on wall times taken on a busy"
            " machine. peak = process high-water mark (interpreter, libraries and input included); base = the"
            " same just before the analysis started."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
