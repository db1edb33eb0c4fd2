"""The ``participate`` command line."""

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from . import jobs, logs
from .extensions import db
from .models import Role
from .services import ServiceError, accounts, consultations, publishing, simulate
from .services.participation.votes import counts
from .services.snapshots import runner, store, view_of

GUNICORN_CONF = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"


@click.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the database schema and load the sample consultations (safe to run again)."""
    upgrade()
    loaded = consultations.load_samples(db.session)
    click.echo(f"Database ready at {current_app.config['SQLALCHEMY_DATABASE_URI']}")
    for consultation in loaded:
        click.echo(f"  sample consultation: /c/{consultation.slug}")
    demo = simulate.load_demo(db.session)
    if store.latest_snapshot(db.session, demo) is None:
        runner.analyse(db.session, demo.id)
    click.echo(f"  demo consultation with simulated votes: /c/{demo.slug}/report")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--production",
    is_flag=True,
    help="Serve with gunicorn and deploy/gunicorn.conf.py (bind, workers, threads from the environment).",
)
@with_appcontext
def serve_command(host, port, production):
    """Run the development server, or gunicorn with --production."""
    if production:
        _exec_gunicorn(host, port)
        return  # only reached when exec is stubbed out (tests)
    # Flask's app.run() refuses to start inside its own CLI, so serve through Werkzeug directly.
    click.echo(f"Serving Participate on http://{host}:{port}/ (press Ctrl+C to stop)")
    run_simple(host, port, current_app._get_current_object(), threaded=True, request_handler=logs.DevRequestHandler)


@click.command("create-facilitator")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--admin", is_flag=True, help="Make the account an admin (manages other accounts).")
@with_appcontext
def create_facilitator_command(email, password_stdin, admin):
    """Create a facilitator account (or an admin with --admin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        account = accounts.create(db.session, email, password, Role.ADMIN if admin else Role.FACILITATOR)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created {account.role.value} account {account.email}")


@click.command("analyse")
@click.argument("slug")
@with_appcontext
def analyse_command(slug):
    """Run the analysis of a consultation now and store it as the latest snapshot."""
    try:
        consultation = consultations.get_any(db.session, slug)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    snapshot = runner.analyse(db.session, consultation.id)
    if snapshot is None:
        click.echo(f"{slug}: no votes yet, nothing to analyse.")
        return
    view = view_of(snapshot)
    click.echo(
        f"{slug}: {snapshot.vote_count} votes, {view.participants} participants, "
        f"{len(view.in_conv)} grouped into {view.k} opinion groups in {snapshot.seconds:.2f} s"
    )


@click.command("export-polis")
@click.argument("slug")
@click.argument("folder", type=click.Path(file_okay=False))
@with_appcontext
def export_polis_command(slug, folder):
    """Write a consultation as the five Pol.is CSV files plus consultation.json into FOLDER."""
    from .services import audit, polis_exchange

    try:
        consultation = consultations.get_any(db.session, slug)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    paths = polis_exchange.export_folder(db.session, consultation, folder)
    audit.record(db.session, None, consultation, "exported", format="polis-folder", via="cli")
    db.session.commit()
    for path in paths:
        click.echo(str(path))


@click.command("import-polis")
@click.argument("path", type=click.Path(exists=True))
@click.option("--slug", help="Web address of the new consultation (default: made from the topic).")
@click.option("--owner", help="Email of the facilitator who will own it (default: none, admins only).")
@click.option(
    "--language",
    help="Language code of its statements, e.g. de (default: what consultation.json says, else en).",
)
@with_appcontext
def import_polis_command(path, slug, owner, language):
    """Import a Pol.is export folder or zip as a new, closed consultation (all or nothing)."""
    from sqlalchemy import select

    from .models import Account
    from .services import polis_exchange

    account = None
    if owner:
        account = db.session.scalar(select(Account).where(Account.email == owner.strip().lower()))
        if account is None:
            raise click.ClickException(f"There is no account for {owner}.")
    try:
        consultation = polis_exchange.import_export(
            db.session, path, slug=slug, owner=account, unlimited=True, language=language
        )
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    participants, votes = counts(db.session, consultation)
    click.echo(f"Imported /c/{consultation.slug}: {votes} current votes from {participants} participants (closed)")
    click.echo(f"Run 'participate analyse {consultation.slug}' to compute its opinion groups now.")


@click.command("demo-votes")
@click.argument("slug")
@click.option("--participants", default=200, show_default=True, type=int, help="How many simulated voters.")
@click.option("--groups", default=3, show_default=True, type=int, help="How many latent opinion groups.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same votes).")
@with_appcontext
def demo_votes_command(slug, participants, groups, seed):
    """Fill a consultation with simulated voters; it is then marked "simulated data" everywhere."""
    try:
        consultation = consultations.get_any(db.session, slug)
        added = simulate.simulate_votes(db.session, consultation, participants, groups=groups, seed=seed)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    runner.analyse(db.session, consultation.id)
    click.echo(f"{slug}: added {participants} simulated participants and {added} votes; marked as simulated data.")


@click.command("publish-report")
@click.argument("slug")
@with_appcontext
def publish_report_command(slug):
    """Publish an immutable snapshot of a consultation's report and print its permanent link."""
    try:
        consultation = consultations.get_any(db.session, slug)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    published = publishing.publish(db.session, consultation)
    click.echo(f"Published /r/{published.token} ({published.vote_count} votes, SHA-256 {published.votes_sha256})")


@click.command("verify")
@click.argument("token")
@with_appcontext
def verify_command(token):
    """Recompute a published report's hashes (moderation log, votes); exit 1 if one does not match.

    TOKEN is the published report's address (``https://…/r/<token>``) or its token; a token starting with "-"
    follows ``--``.
    """
    token = token.rsplit("/r/", 1)[-1].split("?")[0].split("#")[0].removesuffix(".json")
    try:
        checks = publishing.verify(db.session, token)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    for check in checks:
        click.echo(f"{check.name}: {check.state} ({check.detail})")
    if any(check.state == "mismatch" for check in checks):
        sys.exit(1)


def _exec_gunicorn(host, port) -> None:
    """Replace this process with gunicorn; --host/--port, when given, override PARTICIPATE_BIND."""
    context = click.get_current_context()
    command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)]
    if any(context.get_parameter_source(name).name == "COMMANDLINE" for name in ("host", "port")):
        command += ["--bind", f"{host}:{port}"]
    db.engine.dispose()  # nothing of this process's state should leak into gunicorn
    os.execv(sys.executable, command)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (tests, one-off catch-up).")
@with_appcontext
def worker_command(burst):
    """Run an analysis worker: takes analysis jobs from Redis (REDIS_URL) and writes snapshots to the database."""
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("participate worker needs REDIS_URL (without it, web processes analyse in-process)")
    logs.configure(json_lines=bool(current_app.config["LOG_JSON"]))
    jobs.work(current_app._get_current_object(), burst=burst)


@click.command("purge")
@with_appcontext
def purge_command():
    """Apply the retention setting: delete hashed addresses older than IP_HASH_RETENTION_DAYS (run it daily)."""
    from .services import privacy

    days = int(current_app.config["IP_HASH_RETENTION_DAYS"])
    cleared = privacy.purge(db.session, days)
    click.echo(f"Cleared {cleared} hashed address(es) older than {days} days.")


def register(app) -> None:
    for command in (
        init_command,
        serve_command,
        create_facilitator_command,
        analyse_command,
        demo_votes_command,
        publish_report_command,
        purge_command,
        verify_command,
    ):
        app.cli.add_command(command)
    app.cli.add_command(worker_command)
    for command in (export_polis_command, import_polis_command):
        app.cli.add_command(command)


def _create_app():
    from . import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Participate: run and manage consultations.")


if __name__ == "__main__":
    main()
