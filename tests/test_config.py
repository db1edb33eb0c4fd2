"""Configuration comes from the environment; the secret key is made once per instance, never hard-coded."""

import stat

from participate import create_app


def test_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setattr("participate.Flask.auto_find_instance_path", lambda self: str(tmp_path / "inst"))
    app = create_app()
    again = create_app()
    assert app.secret_key == again.secret_key and len(app.secret_key) == 64
    mode = stat.S_IMODE((tmp_path / "inst" / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_environment_overrides(tmp_path, monkeypatch):
    monkeypatch.setattr("participate.Flask.auto_find_instance_path", lambda self: str(tmp_path / "inst"))
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "x.sqlite"))
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("PARTICIPATE_ANALYSIS_DEBOUNCE_SECONDS", "2.5")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite")
    assert app.secret_key == "from-the-environment"
    assert app.config["ANALYSIS_DEBOUNCE_SECONDS"] == 2.5
