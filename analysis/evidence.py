"""Evidence floors, and the one count of observed votes that every figure and claim in a report rests on.

A claim about everyone needs at least :data:`DEFAULT_VOTERS` people who voted on the statement; a claim about an
opinion group needs at least :data:`DEFAULT_GROUP_VOTERS` of that group's members who voted on it. Below a floor a
share is one or two people's votes ("100%" of one vote), so the report lists such statements as "seen by too few
to say" and makes no claim about them. A consultation may raise the floors, never lower them.

:func:`tally` counts, per statement, everyone's and each group's agree, disagree and pass votes from the votes cast
only: a person who never saw a statement counts nowhere (nothing is imputed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_VOTERS = 20
DEFAULT_GROUP_VOTERS = 5
#: Columns of a tally row: agree, disagree, pass, votes.
AGREE, DISAGREE, PASS, VOTES = range(4)


@dataclass(frozen=True)
class Floors:
    """The least number of voters a claim needs: about everyone (``voters``), about one group (``group_voters``)."""

    voters: int = DEFAULT_VOTERS
    group_voters: int = DEFAULT_GROUP_VOTERS

    def __post_init__(self):
        for name, least in (("voters", DEFAULT_VOTERS), ("group_voters", DEFAULT_GROUP_VOTERS)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
                raise ValueError(f"{name} must be an int of at least {least}, got {value!r}")

    @classmethod
    def raised(cls, voters: int | None, group_voters: int | None) -> Floors:
        """The defaults, or higher floors where a consultation's facilitators raised them (never lower; None: not
        set)."""
        return cls(max(int(voters or 0), DEFAULT_VOTERS), max(int(group_voters or 0), DEFAULT_GROUP_VOTERS))

    @classmethod
    def from_dict(cls, d: dict | None) -> Floors:
        """The floors of a report's ``floor`` field; the defaults when it has none (reports made before floors)."""
        d = d or {}
        return cls(int(d.get("voters", DEFAULT_VOTERS)), int(d.get("group_voters", DEFAULT_GROUP_VOTERS)))

    def to_dict(self) -> dict:
        return {"voters": int(self.voters), "group_voters": int(self.group_voters)}

    def everyone(self, votes: int) -> bool:
        """Enough people voted on a statement to say something about everyone."""
        return votes >= self.voters

    def group(self, votes: int) -> bool:
        """Enough of a group's members voted on a statement to say something about that group."""
        return votes >= self.group_voters


@dataclass(frozen=True, eq=False)
class Tallies:
    """Observed votes per statement.

    Attributes
    ----------
    statement_ids : ndarray of int, shape (C,)
    everyone : ndarray of int, shape (C, 4)
        Agree, disagree, pass and votes of everyone who voted on each statement.
    groups : ndarray of int, shape (G, C, 4)
        The same for the members of each group.
    participants : int
        People with at least one vote on a counted statement.
    votes : int
        Votes on counted statements.
    """

    statement_ids: np.ndarray
    everyone: np.ndarray
    groups: np.ndarray
    participants: int
    votes: int

    def row(self, statement_id: int) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
        """``(everyone, [group, ...])`` of one statement, each ``(agree, disagree, pass, votes)``."""
        hit = np.flatnonzero(self.statement_ids == statement_id)
        if not len(hit):
            return (0, 0, 0, 0), [(0, 0, 0, 0)] * self.groups.shape[0]
        c = int(hit[0])
        return tuple(int(x) for x in self.everyone[c]), [tuple(int(x) for x in g[c]) for g in self.groups]


def tally(
    participant_ids,
    statement_ids,
    values,
    *,
    statements: Sequence[int],
    groups: Sequence[Sequence[int]] = (),
    counted: Sequence[int] | None = None,
) -> Tallies:
    """Count the observed votes on ``statements``, for everyone and for each group's members.

    Parameters
    ----------
    participant_ids, statement_ids, values : array-like, shape (n,)
        One current vote per (participant, statement): agree +1, disagree -1, pass 0.
    statements : sequence of int, shape (C,)
        The statements to count, in the order of the result's columns; votes on others are left out.
    groups : sequence of G sequences of participant ids
        Each opinion group's members (a participant in no group counts for everyone only).
    counted : sequence of int, optional
        Statements whose votes count towards ``participants`` and ``votes`` (default: all of ``statements``).

    Returns
    -------
    Tallies
    """
    p = np.asarray(participant_ids, dtype=np.int64).ravel()
    s = np.asarray(statement_ids, dtype=np.int64).ravel()
    v = np.asarray(values, dtype=np.int64).ravel()
    if not len(p) == len(s) == len(v):
        raise ValueError("participant_ids, statement_ids and values must have the same length")
    if len(v) and not np.isin(v, (-1, 0, 1)).all():
        raise ValueError("votes must be -1, 0 or 1")
    sids = np.asarray(statements, dtype=np.int64).ravel()
    n_c, n_g = len(sids), len(groups)
    order = np.argsort(sids, kind="stable")
    pos = np.searchsorted(sids[order], s)
    pos = np.minimum(pos, max(n_c - 1, 0))
    known = (sids[order][pos] == s) if n_c else np.zeros(len(s), dtype=bool)
    col = order[pos][known]
    kind = np.where(v[known] > 0, AGREE, np.where(v[known] < 0, DISAGREE, PASS))
    everyone = np.zeros((n_c, 4), dtype=np.int64)
    np.add.at(everyone, (col, kind), 1)
    everyone[:, VOTES] = everyone[:, :3].sum(1)
    grouped = np.zeros((n_g, n_c, 4), dtype=np.int64)
    if n_g:
        members = [np.asarray(m, dtype=np.int64).ravel() for m in groups]
        all_members = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
        member_group = np.repeat(np.arange(n_g), [len(m) for m in members])
        if len(np.unique(all_members)) != len(all_members):
            raise ValueError("a participant is in more than one group")
        by = np.argsort(all_members, kind="stable")
        sorted_members = all_members[by]
        voter = p[known]
        at = np.minimum(np.searchsorted(sorted_members, voter), max(len(sorted_members) - 1, 0))
        in_group = (sorted_members[at] == voter) if len(sorted_members) else np.zeros(len(voter), dtype=bool)
        g = member_group[by][at][in_group]
        np.add.at(grouped, (g, col[in_group], kind[in_group]), 1)
        grouped[:, :, VOTES] = grouped[:, :, :3].sum(2)
    keep = np.isin(s, sids if counted is None else np.asarray(counted, dtype=np.int64))
    return Tallies(
        statement_ids=sids,
        everyone=everyone,
        groups=grouped,
        participants=len(np.unique(p[keep])),
        votes=int(keep.sum()),
    )


def common_ground(
    tallies: Tallies,
    floors: Floors,
    *,
    side: str = "agree",
    consensus: Mapping[int, float] | None = None,
    consensus_jeffreys: Mapping[int, float] | None = None,
    exclude: Iterable[int] = (),
) -> list[int]:
    """The report's common ground (``side="agree"``) or rejection by all (``"disagree"``): statement ids, best first.

    A statement qualifies when everyone's floor and every group's floor are met and a majority of every group's
    voters took ``side``. Common ground is ranked by Pol.is's group-aware consensus, then the Jeffreys score;
    rejection by the smallest group share disagreeing, highest first. The report and the integrity annex both use
    this one definition, so the annex compares the report's own list with and without flagged participants.
    """
    if side not in ("agree", "disagree"):
        raise ValueError(f"side must be 'agree' or 'disagree', got {side!r}")
    k = AGREE if side == "agree" else DISAGREE
    g = tallies.groups
    if g.shape[0] == 0:
        return []
    votes = g[:, :, VOTES]
    ok = (tallies.everyone[:, VOTES] >= floors.voters) & (votes >= floors.group_voters).all(0)
    ok &= (2 * g[:, :, k] > votes).all(0)
    ok &= ~np.isin(tallies.statement_ids, np.fromiter(exclude, dtype=np.int64))
    ids = tallies.statement_ids[ok].tolist()
    if side == "agree":
        c, j = consensus or {}, consensus_jeffreys or {}
        return sorted(ids, key=lambda s: (-(c.get(s) or 0), -(j.get(s) or 0), s))
    low = dict(zip(ids, (g[:, ok, k] / votes[:, ok]).min(0).tolist(), strict=True))
    return sorted(ids, key=lambda s: (-low[s], s))
