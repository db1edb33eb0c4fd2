"""The ``participate`` commands, run through Flask's CLI runner against the test database."""

import subprocess
import sys

from sqlalchemy import func, select

from participate.extensions import db
from participate.models import Account, Consultation, Statement, StatementTheme
from participate.services import accounts


def _counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(m)) for m in (Consultation, Statement, StatementTheme)
    )


def test_init_loads_samples_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "/c/public-interest-ai" in first.output
    counts = _counts()
    # Two sample consultations plus the demo (a copy of one sample with simulated votes).
    assert counts[0] == 3 and 90 <= counts[1] <= 125 and counts[2] > counts[1]
    demo = db.session.scalar(select(Consultation).where(Consultation.slug == "demo-unacceptable-ai-uses"))
    assert demo.is_simulated and demo.status.value == "closed" and "simulated" in demo.title.lower()
    assert not any(c.is_simulated for c in db.session.scalars(select(Consultation)) if c.id != demo.id)
    assert "/c/demo-unacceptable-ai-uses/report" in first.output
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    assert _counts() == counts


def test_sample_statements_are_short_seeds_with_sources(app):
    app.test_cli_runner().invoke(args=["init"])
    for statement in db.session.scalars(select(Statement)):
        assert len(statement.text) <= 140
        assert statement.origin.value == "seed" and statement.moderation.value == "accepted"
        assert statement.source and statement.theme_names


def test_create_facilitator_from_stdin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-facilitator", "Ada@Example.org", "--password-stdin"], input="correct horse battery staple\n"
    )
    assert result.exit_code == 0, result.output
    account = db.session.scalar(select(Account))
    assert account.email == "ada@example.org" and account.role.value == "facilitator"
    assert account.password_hash.startswith("$argon2id$")
    assert accounts.verify_password(account, "correct horse battery staple")
    assert not accounts.verify_password(account, "wrong password!!")


def test_create_facilitator_refuses_short_password_and_duplicates(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["create-facilitator", "a@b.org", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    runner.invoke(args=["create-facilitator", "a@b.org", "--password-stdin", "--admin"], input="long enough password\n")
    again = runner.invoke(args=["create-facilitator", "a@b.org", "--password-stdin"], input="long enough password\n")
    assert again.exit_code != 0 and "already exists" in again.output
    assert db.session.scalar(select(Account.role)).value == "admin"


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "participate.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for command in ("init", "serve", "create-facilitator"):
        assert command in result.stdout
