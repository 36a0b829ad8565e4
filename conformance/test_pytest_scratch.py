"""pytest_scratch: a suite run directly (not through scripts/test) leaves nothing in the temporary
folder, whether its tests pass or fail, and keeps the files when asked to with --basetemp.

Each case runs pytest on a two-test suite (one passing, one failing, both writing to tmp_path)
whose conftest uses the hook as the real suites do, with TMPDIR pointed at a fresh folder."""

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent

CONFTEST = f"""
import sys
import pytest
sys.path.insert(0, {str(HERE)!r})
from pytest_scratch import use_own_basetemp

@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    use_own_basetemp(config)
"""

TESTS = """
def test_passes(tmp_path):
    (tmp_path / "data").write_bytes(b"x" * 4096)

def test_fails(tmp_path):
    (tmp_path / "data").write_bytes(b"x" * 4096)
    assert False, "on purpose"
"""

INI = "[pytest]\naddopts = -p no:cacheprovider\ntmp_path_retention_policy = failed\n"


def run_suite(*args):
    """Runs the little suite with a fresh TMPDIR; returns (pytest's exit code, files left in
    TMPDIR, pytest's output)."""
    with tempfile.TemporaryDirectory() as root:
        suite, tmp = Path(root, "suite"), Path(root, "tmp")
        suite.mkdir()
        tmp.mkdir()
        (suite / "pytest.ini").write_text(INI)
        (suite / "conftest.py").write_text(textwrap.dedent(CONFTEST))
        (suite / "test_two.py").write_text(textwrap.dedent(TESTS))
        env = dict(os.environ, TMPDIR=str(tmp), PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTEST_ADDOPTS", None)
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", *args], cwd=suite, env=env,
                           capture_output=True, text=True, timeout=120)
        left = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*"))
        return r.returncode, left, r.stdout + r.stderr


def test_a_run_with_a_failure_leaves_nothing_in_tmpdir():
    code, left, out = run_suite()
    assert code == 1, out  # one test failed, as written
    assert "1 failed, 1 passed" in out, out
    assert left == [], f"left in TMPDIR: {left}\n{out}"


def test_basetemp_given_is_kept_for_a_look_at_the_failure():
    with tempfile.TemporaryDirectory() as keep:
        base = Path(keep, "base")
        code, left, out = run_suite("--basetemp", str(base))
        assert code == 1, out
        assert left == [], f"left in TMPDIR: {left}\n{out}"
        kept = sorted(p.name for p in base.iterdir())
        # The failed test's folder stays; the passing one's went when it passed.
        assert any(name.startswith("test_fails") for name in kept), kept
        assert not any(name.startswith("test_passes") for name in kept), kept
