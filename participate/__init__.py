"""Participate: Pol.is-style consultations with an auditable analysis."""

from pathlib import Path

from flask import Flask

from . import config as _config
from . import i18n, security
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .models import DESCRIPTION_MAX_LENGTH, STATEMENT_MAX_LENGTH

# The repository's templates/ and static/, through links inside the package, so an installed wheel has them too.
HERE = Path(__file__).resolve().parent


def create_app(config: dict | None = None) -> Flask:
    """Assemble the application: configuration, extensions, blueprints, CLI. Nothing else happens here."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
    )
    _config.load(app, config)

    from . import database  # noqa: F401  (registers the SQLite connection settings)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    security.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    login_manager.init_app(app)
    # Counters are shared through Redis when there is one (every process and machine counts together), else kept in
    # each process's memory; PARTICIPATE_RATELIMIT_STORAGE_URI chooses explicitly.
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "swept-memory://")
    # The limiter object is shared by every app in the process and would keep the last app's on/off switch.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    from .services import accounts

    accounts.password_checks.configure(app.config["ARGON2_CONCURRENCY"], app.config["ARGON2_WAIT_SECONDS"])
    accounts.configure_hashing(int(app.config["ARGON2_TIME_COST"]), int(app.config["ARGON2_MEMORY_KIB"]))
    app.jinja_env.globals.update(
        statement_max_length=STATEMENT_MAX_LENGTH, description_max_length=DESCRIPTION_MAX_LENGTH
    )
    # An absent value prints as nothing, never as the word "None" (in a form field it would be submitted back).
    app.jinja_env.finalize = lambda value: "" if value is None else value

    from .views import api, auth, errors, facilitate, set_participant_cookie, templating, vote

    templating.init_app(app)

    app.register_blueprint(errors.bp)
    app.register_blueprint(vote.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(facilitate.bp)
    app.after_request(set_participant_cookie)

    from .views import report

    app.register_blueprint(report.bp)

    from . import cli, jobs
    from .services.signals import votes_changed

    votes_changed.connect(jobs.on_votes_changed)  # one module-level receiver: connecting it again changes nothing
    cli.register(app)
    return app
