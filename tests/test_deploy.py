"""The systemd units in deploy/: the daily retention purge runs the real command, as the web service's install does."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def _unit(name: str) -> dict[str, dict[str, str]]:
    """A unit file's sections and settings (systemd's INI dialect: ``#`` comments, ``[Section]``, ``Key=value``)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        else:
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    return sections


def test_the_purge_is_a_oneshot_service_of_the_same_install_as_the_web(app):
    service, web = _unit("participate-purge.service")["Service"], _unit("participate-web.service")["Service"]
    assert service["Type"] == "oneshot"
    for key in ("User", "Group", "WorkingDirectory", "EnvironmentFile", "ProtectSystem", "NoNewPrivileges"):
        assert service[key] == web[key], key
    program, *arguments = service["ExecStart"].split()
    assert program == web["ExecStart"].split()[0] and arguments == ["purge"]
    result = app.test_cli_runner().invoke(args=arguments)  # the command the unit runs exists and works
    assert result.exit_code == 0 and "Cleared 0" in result.output


def test_the_timer_starts_the_purge_daily_and_catches_up_after_downtime():
    timer = _unit("participate-purge.timer")
    assert timer["Timer"]["OnCalendar"] == "daily" and timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["Unit"] == "participate-purge.service"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert "participate-purge.timer" in (ROOT / "README.md").read_text(encoding="utf-8")
