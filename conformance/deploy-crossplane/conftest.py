import sys
from pathlib import Path

import pytest

# This folder (provider_http), and one level up the shared launcher (lapis_proc) and temporary-folder
# hook (pytest_scratch).
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from pytest_scratch import use_own_basetemp  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    use_own_basetemp(config)
