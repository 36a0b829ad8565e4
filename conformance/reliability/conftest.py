import sys
from pathlib import Path

import pytest

# This folder (rawhttp), and one level up the shared launcher (lapis_proc) and temporary-folder
# hook (pytest_scratch).
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from lapis_proc import lapis_binary  # noqa: E402
from pytest_scratch import use_own_basetemp  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    use_own_basetemp(config)


def pytest_collection_modifyitems(config, items):
    if not Path(lapis_binary()).exists():
        skip = pytest.mark.skip(reason=f"no lapis binary at {lapis_binary()} (cargo build --release -p lapis-server)")
        for item in items:
            item.add_marker(skip)
