"""Statements about the participant ("I am over 65", "Rwy'n byw yng Nghaerdydd", "Ich wohne in Graz").

Such a statement is a fact about whoever votes on it, not a view: "agree" means "this is true of me". Reported as a
view ("every group rejects being over 65") it says something false, so these statements are marked "about
participants" (a kind of meta statement: out of the opinion math) and the report shows how each opinion group
answered them instead. A facilitator sees the list and can undo any.

:func:`finding` is a handful of patterns per language (English, Welsh, German), kept simple so a facilitator can be
told why: a statement is about the participant when it opens in the first person ("I", "My", "Rwy'n", "Mae gen i",
"Ich", "Mein") with a verb or phrase of fact (living, working, age, having, being a student, voting, identity) and
has no word of opinion (think, worry, happy, should, want, support...: "I am happy with how my council uses AI" is a
view). Its precision and recall on a labelled set are in the README (``tests/data/about_participants.csv``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Consultation, Statement

_FIRST_PERSON = {
    "en": r"^(?:i|i'm|i've|i'd|my|as an? [\w -]+, i)\b",
    "cy": r"^(?:rwy|rwyf|rydw|rydwi|dw|dwi|ydw|mae gen i|mae gennyf|mae gennym|fy|ces i|cefais|bues i|bum)\b",
    "de": r"^(?:ich|mein|meine|meinen|meiner)\b",
}
# Words of opinion, feeling or wish: a first-person statement with one of them is a view.
_VIEW = {
    "en": r"\b(?:think|thinks|believe|feel|feels|worry|worried|worries|concern|concerned|happy|unhappy|glad|sad|"
    r"afraid|fear|scared|hope|wish|want|wants|would|should|shouldn't|must|prefer|like|love|hate|dislike|support|"
    r"oppose|opposed|against|favour|favor|trust|distrust|agree|disagree|comfortable|uncomfortable|satisfied|"
    r"dissatisfied|angry|frustrated|proud|ashamed|doubt|expect|imagine|dream|okay|ok|fine|unsure|confident|"
    r"sceptical|skeptical|welcome|need|needs|miss|enjoy|appreciate|care|mind|bothered|annoyed|interested|see)\b",
    "cy": r"\b(?:meddwl|credu|teimlo|poeni|pryderu|pryder|hapus|anhapus|falch|trist|ofni|ofn|gobeithio|dymuno|eisiau|"
    r"isio|hoffwn|hoffi|caru|casáu|cefnogi|gwrthwynebu|yn erbyn|o blaid|ymddiried|cytuno|anghytuno|cyfforddus|"
    r"anghyfforddus|bodlon|anfodlon|dig|dylai|dylen|dylid|rhaid|angen|siŵr|sicr|amheus|disgwyl|mwynhau)\b",
    "de": r"\b(?:finde|glaube|denke|meinung|fühle|sorge|sorgen|besorgt|befürchte|fürchte|angst|froh|"
    r"zufrieden|unzufrieden|glücklich|unglücklich|hoffe|wünsche|wünsche mir|möchte|will|wollen|würde|sollte|"
    r"sollten|muss|müssen|bevorzuge|mag|liebe|hasse|unterstütze|lehne|dagegen|dafür|für|gegen|vertraue|"
    r"misstraue|stimme|einverstanden|überzeugt|halte|bereit|vermisse|brauche|erwarte|skeptisch|sicher)\b",
}
# Phrases of fact about oneself, after the first-person opening.
_FACT = {
    "en": r"\b(?:am|i'm|was|have been|i've been)\s+(?:a|an|over|under|aged|between|\d+|retired|employed|"
    r"unemployed|self-employed|disabled|married|single|divorced|widowed|male|female|non-binary|pregnant|"
    r"registered|eligible|allowed to vote|from|born|living|studying|working|a resident|resident|not from|not a|"
    r"not registered|not eligible|not allowed)\b|"
    r"\b(?:live|lived|living|work|worked|working|study|studied|studying|drive|own|owned|rent|use|used|"
    r"voted|vote|moved|grew up|was born|were born|identify|consider myself|speak|can speak|have lived|"
    r"regularly|often|never|commute|cycle|care for|look after|had)\b|"
    r"\b(?:have|i've got|have got)\s+(?:a|an|no|\d+|children|kids|grandchildren|a disability|a degree|"
    r"a car|a driving licence|a driver's license|been)\b|"
    r"^my\s+(?:age|gender|ethnicity|sex|religion|job|occupation|employer|income|household|postcode|first language|"
    r"home|family|children|parents|nationality)\b",
    "cy": r"\b(?:byw|gweithio|astudio|gyrru|berchen|rhentu|defnyddio|pleidleisio|pleidleisiais|symud|symudais|"
    r"geni|ngeni|tyfu|fyfyriwr|myfyriwr|rhiant|nain|taid|mam|tad|wedi ymddeol|ymddeol|dros \d+|o dan \d+|"
    r"\d+ oed|oed|anabl|anabledd|briod|sengl|gofalwr|gofalu|siarad|gymraeg|cymraeg|di-waith|ddi-waith|"
    r"blant|plant|drwydded|gar|car|radd|nyrs|athro|athrawes|ffermwr)\b",
    "de": r"\b(?:wohne|lebe|arbeite|studiere|fahre|besitze|miete|nutze|benutze|wähle|wählte|darf wählen|"
    r"wahlberechtigt|bin umgezogen|zog|geboren|aufgewachsen|komme aus|student|studentin|schüler|schülerin|"
    r"rentner|rentnerin|pensionist|pensionistin|in pension|mutter|vater|eltern|über \d+|unter \d+|\d+ jahre|"
    r"jahre alt|alt|verheiratet|ledig|geschieden|arbeitslos|selbstständig|angestellt|beamter|beamtin|"
    r"behinderung|pendle|spreche|kinder|enkel|führerschein|auto|abschluss|pflege|alter|geschlecht|beruf|"
    r"einkommen|wohnort|herkunft|muttersprache)\b",
}
_COMPILED = {
    lang: (re.compile(_FIRST_PERSON[lang]), re.compile(_VIEW[lang]), re.compile(_FACT[lang])) for lang in _FIRST_PERSON
}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


@dataclass(frozen=True)
class Finding:
    """Why a statement was taken to be about the participant: its language's rule and the phrase that matched."""

    language: str
    phrase: str


def finding(text: str) -> Finding | None:
    """The reason ``text`` describes the participant (a fact about oneself), or None when it is a view or neither."""
    t = re.sub(r"\s+", " ", text.translate(_APOSTROPHES).strip().lower())
    for lang, (first, view, fact) in _COMPILED.items():
        if not first.search(t):
            continue
        if view.search(t):
            return None
        hit = fact.search(t)
        if hit:
            return Finding(lang, hit.group(0))
    return None


def is_about_participants(text: str) -> bool:
    return finding(text) is not None


def mark(statement: Statement) -> bool:
    """Mark a new statement (not yet committed) when it is about the participant; whether it was marked."""
    if not statement.about_participants and is_about_participants(statement.text):
        statement.about_participants = True
        statement.is_meta = True
        return True
    return False


def find_all(session: Session, consultation: Consultation) -> list[Statement]:
    """The consultation's statements marked about participants, in order (what the facilitator reviews)."""
    return list(
        session.scalars(
            select(Statement)
            .where(Statement.consultation_id == consultation.id, Statement.about_participants.is_(True))
            .order_by(Statement.id)
        )
    )
