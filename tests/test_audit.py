"""scripts/audit_report.py: fails on known vulnerabilities, never passes silently when nothing was audited."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "audit_report.py"


def _run(tmp_path, report, status=0):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report) if report is not None else "")
    done = subprocess.run([sys.executable, SCRIPT, path, str(status)], capture_output=True, text=True, check=False)
    return done.returncode, done.stdout


@pytest.mark.parametrize(
    ("report", "code", "says"),
    [
        ({"dependencies": [{"name": "flask", "skip_reason": "not found"}]}, 0, "unreachable, audit skipped"),
        (None, 0, "unreachable, audit skipped"),
        ({"dependencies": [{"name": "flask", "version": "3.1.0", "vulns": []}]}, 0, "1 audited, 0 with known"),
        (
            {"dependencies": [{"name": "jinja2", "version": "2.0", "vulns": [{"id": "GHSA-x", "fix_versions": []}]}]},
            1,
            "VULNERABLE jinja2 2.0: GHSA-x",
        ),
    ],
)
def test_audit_report(tmp_path, report, code, says):
    returncode, output = _run(tmp_path, report, status=1 if code else 0)
    assert returncode == code and says in output
