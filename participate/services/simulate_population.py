"""Simulated answers about participants for the demo consultation, drawn with a bias a newcomer can see.

The demo's simulated voters answer two ready-made questions (age band and sex, UK shares). Those who agreed with
the demo's most divisive statement are drawn younger and more often female than the population, the rest closer
to it; some do not answer or prefer not to say. So the report's "who took part" table shows a skewed sample, and
the weighted agree shares differ from the unweighted ones, as they would when one side of a debate turns out more.
"""

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..models import Consultation, CurrentVote, ParticipantAnswer, utcnow
from . import population

NOT_ANSWERED = 0.08
PREFER_NOT = 0.04


def add_demo_answers(session: Session, consultation: Consultation, *, seed: int = 0) -> int:
    """Add the age-band and sex questions (UK figures) and biased answers for everyone who voted; returns how many.

    For a consultation of simulated voters only (the demo): real participants answer for themselves.
    """
    asked = {q.template: q for q in population.questions(session, consultation)}
    for key in ("age_band", "sex"):
        if key not in asked:
            asked[key] = population.add_template(session, consultation, None, key, "uk")
    votes = session.execute(
        select(CurrentVote.participant_id, CurrentVote.statement_id, CurrentVote.value).where(
            CurrentVote.consultation_id == consultation.id
        )
    ).all()
    if not votes:
        return 0
    pids = np.array([v[0] for v in votes])
    sids = np.array([v[1] for v in votes])
    agree = np.array([v[2] for v in votes]) > 0
    statements = np.unique(sids)
    share = np.array([agree[sids == s].mean() for s in statements])
    divisive = statements[np.argmin(np.abs(share - 0.5))]
    people = np.unique(pids)
    agreed = set(pids[(sids == divisive) & agree].tolist())
    rng = np.random.default_rng(seed)
    rows = []
    now = utcnow()
    for key, tilt in (("age_band", -0.45), ("sex", -0.5)):
        question = asked[key]
        base = np.array([c.population_share or 0.02 for c in question.categories])
        k = np.arange(len(base))
        leaning = base * np.exp(tilt * k)  # the agreeing side: younger, more often female
        other = base * np.exp(0.3 * tilt * k)
        for pid in people.tolist():
            draw = rng.random()
            if draw < NOT_ANSWERED:
                continue
            category = None
            if draw >= NOT_ANSWERED + PREFER_NOT:
                p = leaning if pid in agreed else other
                category = question.categories[int(rng.choice(len(p), p=p / p.sum()))].id
            rows.append(
                {"participant_id": pid, "question_id": question.id, "category_id": category, "answered_at": now}
            )
    session.execute(insert(ParticipantAnswer), rows)
    session.commit()
    return len(rows)
