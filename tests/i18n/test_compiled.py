"""Welsh on every install: the compiled catalogue is in git, matches its source, and ships in a plain wheel.

The .mo is committed rather than compiled at build time so that every way of getting the code (a clone, ``pip
install .``, a wheel, an editable install, a source tree on ``PYTHONPATH``) serves Welsh with no build step to
forget; tests/i18n/test_catalogue.py stops the committed file from drifting from the .po it is compiled from.
"""

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LC = ROOT / "participate" / "translations" / "cy" / "LC_MESSAGES"


def test_the_compiled_catalogue_is_tracked_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(LC / "messages.mo")], cwd=ROOT, capture_output=True
    )
    assert tracked.returncode == 0, "messages.mo must be committed: a clone or a wheel without it serves no Welsh"


@pytest.mark.slow  # a wheel build and a virtual environment
def test_welsh_after_a_plain_pip_install_of_a_wheel(tmp_path):
    """The tracked files of this checkout (as a clone has them) built into a wheel and installed into a fresh virtual
    environment, without any project script, serve a page in Welsh. About ten seconds: one wheel build."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the files a clone would have are unknown")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    source = tmp_path / "clone"
    for name in filter(None, files.decode().split("\0")):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():
            (source / name).symlink_to((ROOT / name).readlink())
        elif (ROOT / name).is_file():
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(source)], check=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    wheel = next((tmp_path / "dist").glob("participate-*.whl"))
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)], check=True)
    # The dependencies come from this environment, appended after the new one's own site-packages (a .pth line is
    # not itself scanned for .pth files, so this environment's editable install of participate stays out).
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = (
        "import participate, sys\n"
        "from participate import create_app\n"
        f"app = create_app({{'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/db.sqlite'}})\n"
        "print(participate.__file__)\n"
        "print(app.test_client().get('/static/css/site.css').status_code)\n"
        "print(app.test_client().get('/login?lang=cy').text)\n"
    )
    run = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.splitlines()[0].startswith(site), "the installed wheel, not this source tree, was imported"
    assert out.splitlines()[1] == "200", "the wheel carries the static files"
    assert "Mewngofnodi" in out and 'lang="cy"' in out
