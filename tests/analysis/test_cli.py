"""``python -m analysis PATH``, run in a subprocess as a user would run it."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from analysis.polis_io import read_polis_export

ROOT = Path(__file__).resolve().parents[2]
TINY = Path(__file__).parent / "data" / "tiny-export"

KEYS = {
    "participants",
    "statements",
    "votes",
    "k",
    "in_conv",
    "groups",
    "projection",
    "repness",
    "consensus",
    "group_aware_consensus",
    "priorities",
    "k_scores",
    "k_tied",
    "bridging",
    "bridging_interval",
    "headline",
    "headline_jr",
    "headline_left_out",
    "mode",
    "steps",
    "seconds",
}


def cli(*args: object) -> subprocess.CompletedProcess:
    """Run the CLI from the project root."""
    return subprocess.run(
        [sys.executable, "-m", "analysis", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_writes_the_analysis_as_json_to_stdout():
    done = cli(TINY, "--no-replay")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = json.loads(done.stdout)
    assert set(out) == KEYS
    assert (out["participants"], out["statements"], out["votes"]) == (20, 8, 149)
    assert out["mode"] == "single" and out["steps"] == 1
    assert out["k"] == len(set(out["groups"].values())) >= 2
    assert str(out["k"]) in out["k_scores"] and isinstance(out["k_tied"], bool)
    assert set(out["bridging"]) == set(out["bridging_interval"]) <= set(out["group_aware_consensus"])
    assert len(out["bridging"]) >= 5
    assert all(lo <= out["bridging"][s] <= hi for s, (lo, hi) in out["bridging_interval"].items())
    # Only statements at the evidence floor (20 voters) may be headlined: in this 20-person conversation, the two
    # everyone voted on (both agreed with by some); the other accepted ones are bridging-scored but not at the floor
    export = read_polis_export(TINY)
    _, voted_on, _ = export.latest().as_arrays()
    at_floor = {str(s) for s, n in enumerate(np.bincount(voted_on)) if n >= 20} - {str(s) for s in export.mod_out}
    assert at_floor == {"0", "1"}
    assert sorted(str(s) for s in out["headline"]) == sorted(at_floor)
    assert at_floor < set(out["bridging"])
    assert isinstance(out["headline_jr"], bool)
    assert set(out["groups"]) == {str(p) for p in out["in_conv"]}
    assert set(out["projection"]) == {str(p) for p in range(20)}
    assert all(len(xy) == 2 for xy in out["projection"].values())
    assert set(out["repness"]) == {str(g) for g in out["groups"].values()}
    rep = next(r for reps in out["repness"].values() for r in reps)
    assert set(rep) == {
        "statement_id",
        "repful_for",
        "n_success",
        "n_trials",
        "p_success",
        "p_test",
        "repness",
        "repness_test",
    }
    assert set(out["consensus"]) == {"agree", "disagree"}
    assert set(out["priorities"]) == {str(s) for s in range(8)}
    # statement 7 is moderated out: never representative
    assert all(r["statement_id"] != 7 for reps in out["repness"].values() for r in reps)
    # Participants 0-9 ("bikes") and 10-19 ("cars") never share a group.
    groups = {int(p): g for p, g in out["groups"].items()}
    assert not {g for p, g in groups.items() if p < 10} & {g for p, g in groups.items() if p >= 10}
    assert out["seconds"] >= 0


@pytest.mark.slow  # a Python process each (importing scikit-learn is a CPU second); the fast loop keeps the first
def test_cli_replay_zip_and_out_file(tmp_path):
    archive = tmp_path / "tiny.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in TINY.iterdir():
            z.write(path, f"tiny-export/{path.name}")
    target = tmp_path / "result.json"
    done = cli(archive, "--replay", "--batch", "40", "--out", target)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    out = json.loads(target.read_text(encoding="utf-8"))
    assert out["mode"] == "replay" and out["steps"] == 4  # 152 votes in steps of 40
    assert out["votes"] == 149


@pytest.mark.slow  # a Python process each (importing scikit-learn is a CPU second); the fast loop keeps the first
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda d: (d / "votes.csv").write_text((d / "votes.csv").read_text().replace(",0,1,1\n", ",0,1,2\n", 1)),
            "error: votes.csv row 3: unknown vote value '2' (expected -1, 0 or 1)",
        ),
        (
            lambda d: (d / "comments.csv").unlink(),
            "error: comments.csv: file not found in {d}",
        ),
        (
            lambda d: (d / "comments.csv").write_text("comment-id,comment-body,moderated\n0,Hello,1\n1,World,yes\n"),
            "error: comments.csv row 3: unknown moderated value 'yes' (expected -1, 0 or 1)",
        ),
        (
            lambda d: shutil.rmtree(d),
            "error: {d}: no such file or folder",
        ),
    ],
    ids=["bad-vote", "missing-comments", "bad-moderated", "missing-folder"],
)
def test_cli_bad_input_exits_nonzero_with_one_line(tmp_path, damage, message):
    folder = tmp_path / "export"
    shutil.copytree(TINY, folder)
    damage(folder)
    done = cli(folder)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == message.format(d=folder) + "\n"
    assert "Traceback" not in done.stderr


@pytest.mark.slow  # a Python process each (importing scikit-learn is a CPU second); the fast loop keeps the first
def test_cli_usage_errors_are_one_line(tmp_path):
    done = cli(TINY, "--interval", "0")
    assert (done.returncode, done.stderr) == (2, "error: --interval must be > 0, got 0\n")
    done = cli(TINY, "--out", tmp_path / "missing" / "out.json")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1


@pytest.mark.slow  # a Python process each (importing scikit-learn is a CPU second); the fast loop keeps the first
def test_cli_reads_a_math_fixture_folder(tmp_path):
    from analysis.polis_io import read_polis_export

    export = read_polis_export(TINY)
    history = export.votes
    votes = [
        {"pid": p, "tid": s, "vote": v, "modified": str(int(t * 1000))}
        for p, s, v, t in zip(
            history.participant_ids.tolist(),
            history.statement_ids.tolist(),
            history.values.tolist(),
            history.timestamps.tolist(),
            strict=True,
        )
    ]
    comments = [{"tid": s.id, "txt": s.text, "pid": s.author_id, "mod": s.moderated} for s in export.statements]
    (tmp_path / "votes.json").write_text(json.dumps(votes), encoding="utf-8")
    (tmp_path / "comments.json").write_text(json.dumps(comments), encoding="utf-8")
    from_fixture = cli(tmp_path, "--no-replay")
    from_export = cli(TINY, "--no-replay")
    assert from_fixture.returncode == 0, from_fixture.stderr
    a, b = json.loads(from_fixture.stdout), json.loads(from_export.stdout)
    for doc in (a, b):
        del doc["seconds"]
    assert a == b
