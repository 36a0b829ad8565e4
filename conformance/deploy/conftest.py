import sys
from pathlib import Path

import pytest

# The temporary-folder hook shared with the other suites.
sys.path.insert(0, str(Path(__file__).parent.parent))

from pytest_scratch import use_own_basetemp  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    use_own_basetemp(config)
