"""Behaviour that could indicate manipulation: straight-lining, near-identical vote vectors, voting faster than reading.

Every detector looks at *how* people voted, never at where they voted from: a town-hall session on one Wi-Fi
shares a network address, and that alone says nothing. :func:`arrival_bursts` (many new participants from one
network within minutes) is context for the reader, not a reason to flag anyone.

Inputs are parallel 1-D arrays, one entry per vote, in any order: ``participants`` (V,) and ``statements`` (V,)
integer ids, ``values`` (V,) in {-1, 0, 1} (agree = +1, see :mod:`analysis`), ``timestamps`` (V,) seconds. Each
detector returns participant ids (sorted, int64). The thresholds are fixed from first principles, stated beside
each constant; they are not fitted to any data set. A flag is a prompt to look, not a verdict: the integrity annex
recomputes the headline results without the flagged participants and shows both.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import binom

#: Votes a participant needs before straight-lining or near-identity means anything. A voter who answered
#: independently of the statements, each of the three answers equally likely, gives one answer ten times in a row
#: with probability 3 · 3⁻¹⁰ ≈ 5·10⁻⁵; statements are written by participants from every side, so an honest voter
#: rarely agrees (or disagrees) with all of ten of them.
MIN_VOTES = 10
#: Share of two participants' common votes that must be equal for "near-identical": one differing answer in twenty
#: is tolerated (a copied ballot with a slip), two in twenty is ordinary agreement between like-minded people.
SIMILARITY = 0.95
#: Family-wise chance of linking two independent voters as near-identical, split over all pairs (Bonferroni): about
#: one consultation in a hundred would show a single chance link, and a group needs at least two.
CHANCE = 0.01
#: Smallest group of near-identical participants reported: two like-minded people can coincide; a third copy of
#: the same ballot is what an organised campaign looks like.
CLUSTER_SIZE = 3
#: Above this many participants near-identity is checked as exact identity, in linear time: the pairwise check
#: holds three P-by-P matrices (2,000 participants: about 100 MB).
PAIRWISE_LIMIT = 2000
#: Seconds below which a vote cannot follow reading the statement. Silent reading runs at about 4 words a second
#: (238 a minute: Brysbaert, "How many words do we read per minute?", J. Memory and Language, 2019)
#: and skimming at under 12; choosing among three buttons takes a visual choice reaction of about 0.5 s. A
#: statement of even five words and a click therefore take about a second.
READING_SECONDS = 1.0
#: Consecutive votes, each less than :data:`READING_SECONDS` after the one before, that make a burst: a double
#: click or two quick "pass" votes happen to anyone; ten in a row is not reading.
BURST_VOTES = 10
#: Arrivals: this many new participants from one network ...
ARRIVALS = 10
#: ... within this many seconds is reported (not flagged) as a burst of arrivals.
ARRIVAL_WINDOW = 600.0


def _votes(participants, statements=None, values=None, timestamps=None) -> list[np.ndarray]:
    """Validate parallel vote arrays: 1-D, equal length, integer ids, values in {-1, 0, 1}, finite timestamps."""
    p = np.asarray(participants)
    out = [p]
    if p.ndim != 1:
        raise ValueError(f"participants must be 1-D, got shape {p.shape}")
    for name, a in (("statements", statements), ("values", values), ("timestamps", timestamps)):
        if a is None:
            continue
        a = np.asarray(a)
        if a.shape != p.shape:
            raise ValueError(f"{name} must have the shape of participants {p.shape}, got {a.shape}")
        out.append(a)
    for name, a in (("participants", p), ("statements", statements)):
        if a is not None and len(a) and not np.issubdtype(np.asarray(a).dtype, np.integer):
            raise ValueError(f"{name} must be integer ids, got dtype {np.asarray(a).dtype}")
    if values is not None and len(p) and not np.isin(np.asarray(values), (-1, 0, 1)).all():
        raise ValueError("values must be -1 (disagree), 0 (pass) or 1 (agree)")
    if timestamps is not None and len(p) and not np.isfinite(np.asarray(timestamps, dtype=np.float64)).all():
        raise ValueError("timestamps must be finite seconds")
    return out


def _at_least(name: str, value, low) -> None:
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


def straight_liners(participants, values, *, min_votes: int = MIN_VOTES) -> np.ndarray:
    """Participants who gave the same answer to every one of at least ``min_votes`` statements.

    Parameters
    ----------
    participants : (V,) int, the voter of each vote (one vote per participant and statement).
    values : (V,) int in {-1, 0, 1}.
    min_votes : int ≥ 1.

    Returns
    -------
    (F,) int64, sorted participant ids.
    """
    p, v = _votes(participants, values=values)
    _at_least("min_votes", min_votes, 1)
    if len(p) == 0:
        return np.zeros(0, dtype=np.int64)
    ids, rows = np.unique(p, return_inverse=True)
    counts = np.bincount(rows, minlength=len(ids))
    lo = np.full(len(ids), 2, dtype=np.int64)
    hi = np.full(len(ids), -2, dtype=np.int64)
    np.minimum.at(lo, rows, v)
    np.maximum.at(hi, rows, v)
    return ids[(counts >= min_votes) & (lo == hi)].astype(np.int64)


def near_identical(
    participants,
    statements,
    values,
    *,
    min_votes: int = MIN_VOTES,
    similarity: float = SIMILARITY,
    min_size: int = CLUSTER_SIZE,
    chance: float = CHANCE,
    pairwise_limit: int = PAIRWISE_LIMIT,
) -> list[np.ndarray]:
    """Groups of at least ``min_size`` participants linked by near-identical votes that chance does not explain.

    Two participants are linked when they voted on at least ``min_votes`` common statements, gave the same answer on
    at least ``similarity`` of them, **and** two independent voters would rarely agree that much: each common
    statement s is matched by chance with probability q_s = Σ_v share_sv² (the answers' shares on s, counting each
    distinct ballot once, so that copies do not make themselves look ordinary), and the chance of m or more matches
    in n is bounded by the binomial tail at the mean q (Hoeffding 1956: the binomial is the most spread sum of
    independent trials with that mean). A link needs that tail below ``chance`` divided by the number of pairs.
    Two people agreeing with every consensus statement are thus not linked; two identical ballots on divided
    statements are. Groups are the connected components of the links. Above ``pairwise_limit`` participants (with
    ``min_votes`` votes) only exactly identical ballots are compared, with the same chance check (tail = Π q_s).

    Parameters
    ----------
    participants, statements : (V,) int, one vote per participant and statement.
    values : (V,) int in {-1, 0, 1}.
    min_votes : int ≥ 1.
    similarity : float in (0, 1].
    min_size : int ≥ 2.
    chance : float in (0, 1], the family-wise chance of linking any pair of independent voters.
    pairwise_limit : int ≥ 0.

    Returns
    -------
    list of (n_i,) int64 sorted participant ids, ordered by their first id.
    """
    p, s, v = _votes(participants, statements, values)
    _at_least("min_votes", min_votes, 1)
    _at_least("min_size", min_size, 2)
    _at_least("pairwise_limit", pairwise_limit, 0)
    if not 0 < similarity <= 1:
        raise ValueError(f"similarity must be in (0, 1], got {similarity}")
    if not 0 < chance <= 1:
        raise ValueError(f"chance must be in (0, 1], got {chance}")
    ids, rows = np.unique(p, return_inverse=True)
    active = np.flatnonzero(np.bincount(rows, minlength=len(ids)) >= min_votes)
    if len(active) < min_size:
        return []
    keep = np.isin(rows, active)
    r = np.searchsorted(active, rows[keep])
    cols, c = np.unique(s[keep], return_inverse=True)
    v = v[keep]
    n = len(active)
    ballot = _identical_ballots(r, c, v, n)
    distinct = np.isin(r, np.unique(ballot, return_index=True)[1])  # one row per distinct ballot
    answers = np.zeros((len(cols), 3))
    np.add.at(answers, (c[distinct], v[distinct] + 1), 1)
    q = ((answers / answers.sum(axis=1, keepdims=True)) ** 2).sum(axis=1)  # (C,) chance two voters match on s
    per_pair = chance / (n * (n - 1) / 2)
    if n > pairwise_limit:
        log_tail = np.bincount(r, weights=np.log(q[c]), minlength=n)  # each row's exact-match chance, in logs
        sizes = np.bincount(ballot, minlength=n)
        labels = np.where((sizes[ballot] >= 2) & (log_tail <= np.log(per_pair)), ballot, -1)
    else:
        shape = (n, len(cols))
        ones = np.ones(len(r))
        voted = csr_matrix((ones, (r, c)), shape=shape)
        overlap = (voted @ voted.T).toarray()
        expected = (csr_matrix((q[c], (r, c)), shape=shape) @ voted.T).toarray()  # Σ q_s over common statements
        equal = np.zeros_like(overlap)
        for value in (-1, 0, 1):
            m = v == value
            same = csr_matrix((ones[m], (r[m], c[m])), shape=shape)
            equal += (same @ same.T).toarray()
        close = (overlap >= min_votes) & (equal >= similarity * overlap)
        np.fill_diagonal(close, False)
        i, j = np.nonzero(close)
        with np.errstate(divide="ignore", invalid="ignore"):
            tail = binom.sf(equal[i, j] - 1, overlap[i, j], np.clip(expected[i, j] / overlap[i, j], 0, 1))
        close[i, j] = tail <= per_pair
        _, labels = connected_components(csr_matrix(close), directed=False)
        labels = np.where(close.any(axis=1), labels, -1)  # a participant linked to nobody is in no group
    sizes = np.bincount(labels[labels >= 0], minlength=1)
    groups = [np.sort(ids[active[labels == g]]).astype(np.int64) for g in np.flatnonzero(sizes >= min_size)]
    return sorted(groups, key=lambda g: g[0])


def _identical_ballots(r: np.ndarray, c: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """(n,) label per participant row: equal for exactly equal ballots (same statements, same answers)."""
    ballots = csr_matrix(((v + 2).astype(np.int8), (r, c)), shape=(n, int(c.max()) + 1))  # +2: pass is not empty
    ballots.sort_indices()
    bounds = zip(ballots.indptr[:-1], ballots.indptr[1:], strict=True)
    keys = [ballots.indices[a:b].tobytes() + ballots.data[a:b].tobytes() for a, b in bounds]
    _, labels = np.unique(np.array(keys, dtype=object), return_inverse=True)
    return labels


def fast_voters(
    participants,
    statements,
    timestamps,
    *,
    reading_seconds: float = READING_SECONDS,
    burst_votes: int = BURST_VOTES,
) -> np.ndarray:
    """Participants with ``burst_votes`` consecutive votes, each under ``reading_seconds`` after the one before.

    Only the first vote on each statement counts: changing one's mind later needs no reading.

    Parameters
    ----------
    participants, statements : (V,) int, every vote cast (re-votes included).
    timestamps : (V,) float, seconds (any origin).
    reading_seconds : float > 0.
    burst_votes : int ≥ 2.

    Returns
    -------
    (F,) int64, sorted participant ids.
    """
    p, s, t = _votes(participants, statements, timestamps=timestamps)
    if not reading_seconds > 0:
        raise ValueError(f"reading_seconds must be > 0, got {reading_seconds}")
    _at_least("burst_votes", burst_votes, 2)
    t = t.astype(np.float64)
    order = np.lexsort((t, s, p))
    p, s, t = p[order], s[order], t[order]
    first = np.r_[True, (p[1:] != p[:-1]) | (s[1:] != s[:-1])] if len(p) else np.zeros(0, dtype=bool)
    p, t = p[first], t[first]
    order = np.lexsort((t, p))
    p, t = p[order], t[order]
    fast = (p[1:] == p[:-1]) & (np.diff(t) < reading_seconds)  # gap i lies between votes i and i + 1
    edges = np.flatnonzero(np.diff(np.r_[0, fast.astype(np.int8), 0]))
    starts, ends = edges[::2], edges[1::2]  # runs of fast gaps [start, end)
    long = (ends - starts + 1) >= burst_votes  # a run of g fast gaps spans g + 1 votes
    return np.unique(p[starts[long]]).astype(np.int64)


def arrival_bursts(networks, timestamps, *, size: int = ARRIVALS, window: float = ARRIVAL_WINDOW) -> list[np.ndarray]:
    """Positions of participants who arrived with at least ``size - 1`` others from one network within ``window``.

    Context, not a flag: a meeting on one Wi-Fi looks exactly like this.

    Parameters
    ----------
    networks : (N,) int, a code per participant's network (equal codes: one network).
    timestamps : (N,) float, when each participant arrived, in seconds.
    size : int ≥ 2.
    window : float ≥ 0, seconds.

    Returns
    -------
    list of (n_i,) int64 sorted positions into ``networks``, one array per network with a burst, ordered by
    their first arrival.
    """
    g, arrived = _votes(networks, timestamps=timestamps)
    _at_least("size", size, 2)
    _at_least("window", window, 0)
    arrived = arrived.astype(np.float64)
    order = np.lexsort((arrived, g))
    g, t = g[order], arrived[order]
    # Arrival i and the one size - 1 later, on the same network, no more than ``window`` apart: a burst.
    lag = size - 1
    if len(g) <= lag:  # fewer arrivals than a burst: none (and the shifted slices below would not line up)
        return []
    ends = np.flatnonzero((g[lag:] == g[: len(g) - lag]) & (t[lag:] - t[: len(t) - lag] <= window))
    member = np.zeros(len(g) + 1, dtype=np.int64)
    np.add.at(member, ends, 1)
    np.add.at(member, ends + lag + 1, -1)  # a burst covers positions ends … ends + lag
    inside = np.cumsum(member)[: len(g)] > 0
    bursts = [np.sort(order[inside & (g == code)]).astype(np.int64) for code in np.unique(g[inside])]
    return sorted(bursts, key=lambda b: (arrived[b].min(), b[0]))
