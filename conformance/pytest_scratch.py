"""Where the suites' temporary files go, and that they go away.

By default pytest puts `tmp_path` under /tmp/pytest-of-<user>/pytest-<N> and keeps the last three
sessions there: for the durability suite (a 1 GiB blob, kill -9 loops) that is over a GiB per run,
left behind. Each suite's conftest calls `use_own_basetemp` from its `pytest_configure` instead:
the session's base folder is a fresh folder in the system's temporary folder (`TMPDIR`, which
`scripts/test` points at its own scratch folder), removed when the session ends, passed or failed.
With `--basetemp DIR` pytest uses DIR and keeps it: the way to look at a failed test's files.

The suites' pytest.ini set `tmp_path_retention_policy = failed`, so a passing test's folder goes as
soon as the test ends rather than at the end of the session.
"""

import shutil
import tempfile


def use_own_basetemp(config):
    """Call first thing in `pytest_configure` (a `tryfirst` hook: pytest's tmp_path factory reads
    the option in its own `pytest_configure`)."""
    if config.option.basetemp is not None:
        return
    base = tempfile.mkdtemp(prefix="lapis-pytest-")
    config.option.basetemp = base
    config.add_cleanup(lambda: shutil.rmtree(base, ignore_errors=True))
