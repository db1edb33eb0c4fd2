"""Simulated answers about participants for the demo consultation, drawn with a bias a newcomer can see.

The demo's simulated voters answer two ready-made questions (age band and sex, UK shares). Each opinion camp in
the votes leans its own way (:data:`LEAN`): one much younger and more often female than the population, one older,
one a little younger; some do not answer or prefer not to say. So the report's "who took part" table shows a skewed
sample, and the weighted agree shares differ from the unweighted ones, as when one side of a debate turns out more.
"""

import numpy as np
from sklearn.cluster import KMeans
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..models import Consultation, CurrentVote, ParticipantAnswer, utcnow
from . import population

NOT_ANSWERED = 0.08
#: Each opinion camp's lean on every question's categories (log-odds per category step): one much younger and
#: more female than the population, one older and more male, one a little younger.
LEAN = (-1.0, 0.5, -0.3)
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
    people, row = np.unique([v[0] for v in votes], return_inverse=True)
    statements, col = np.unique([v[1] for v in votes], return_inverse=True)
    matrix = np.zeros((len(people), len(statements)))
    matrix[row, col] = [v[2] for v in votes]
    # The opinion camps the votes show (k-means over the vote matrix); each camp draws its answers with its own lean.
    camp = KMeans(n_clusters=min(3, len(people)), n_init=4, random_state=seed).fit_predict(matrix)
    rng = np.random.default_rng(seed)
    rows = []
    now = utcnow()
    for key in ("age_band", "sex"):
        question = asked[key]
        base = np.array([c.population_share or 0.02 for c in question.categories])
        k = np.arange(len(base))
        for pid, lean in zip(people.tolist(), np.asarray(LEAN)[camp], strict=True):
            draw = rng.random()
            if draw < NOT_ANSWERED:
                continue
            category = None
            if draw >= NOT_ANSWERED + PREFER_NOT:
                p = base * np.exp(lean * k)  # a negative lean: younger, more often female
                category = question.categories[int(rng.choice(len(p), p=p / p.sum()))].id
            rows.append(
                {"participant_id": pid, "question_id": question.id, "category_id": category, "answered_at": now}
            )
    session.execute(insert(ParticipantAnswer), rows)
    session.commit()
    return len(rows)
