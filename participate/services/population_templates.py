"""Ready-made questions about participants, with the population's shares of each answer (data, not logic).

Figures: Office for National Statistics (ONS) mid-year population estimates for mid-2022 (for Wales, the ONS
figures the Welsh Government republishes), ages 16 and over for age band and sex, all ages for nation and region;
rounded to whole percentages (regions to 0.1 point), so they are a guide, not the published table. A facilitator
can correct them, replace them by newer figures, or enter another population's. "In another way" has no
population figure: those answers are shown but not weighted (the estimates count only female and male).
"""

from . import N_

SOURCE = {
    "uk": N_("ONS mid-year population estimates, mid-2022, United Kingdom (rounded)"),
    "wales": N_("ONS mid-year population estimates, mid-2022, Wales (rounded)"),
}
YEAR = 2022
AREAS = {"uk": N_("United Kingdom"), "wales": N_("Wales")}

#: key → question text, categories ``(value, label)`` and the population's share of each per area (None: no figure).
TEMPLATES: dict[str, dict] = {
    "age_band": {
        "text": N_("What is your age?"),
        "categories": [
            ("16-24", N_("16 to 24")),
            ("25-34", N_("25 to 34")),
            ("35-44", N_("35 to 44")),
            ("45-54", N_("45 to 54")),
            ("55-64", N_("55 to 64")),
            ("65-74", N_("65 to 74")),
            ("75+", N_("75 or over")),
        ],
        # Ages 16 and over.
        "shares": {
            "uk": [0.13, 0.16, 0.16, 0.16, 0.15, 0.13, 0.11],
            "wales": [0.13, 0.15, 0.14, 0.15, 0.17, 0.14, 0.12],
        },
    },
    "sex": {
        "text": N_("What is your sex?"),
        "categories": [("female", N_("Female")), ("male", N_("Male")), ("another", N_("In another way"))],
        "shares": {"uk": [0.51, 0.49, None], "wales": [0.51, 0.49, None]},
    },
    "nation_region": {
        "text": N_("Where in the UK do you live?"),
        "categories": [
            ("north-east", N_("North East England")),
            ("north-west", N_("North West England")),
            ("yorkshire", N_("Yorkshire and The Humber")),
            ("east-midlands", N_("East Midlands")),
            ("west-midlands", N_("West Midlands")),
            ("east", N_("East of England")),
            ("london", N_("London")),
            ("south-east", N_("South East England")),
            ("south-west", N_("South West England")),
            ("scotland", N_("Scotland")),
            ("wales", N_("Wales")),
            ("northern-ireland", N_("Northern Ireland")),
        ],
        # All ages. Wales on its own has no regions in these estimates: the template is offered for the UK only.
        "shares": {"uk": [0.040, 0.111, 0.082, 0.073, 0.089, 0.095, 0.131, 0.139, 0.085, 0.081, 0.046, 0.028]},
    },
}
