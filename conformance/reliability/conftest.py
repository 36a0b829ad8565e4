import sys
from pathlib import Path

import pytest

# This folder (rawhttp) and the shared launcher one level up (lapis_proc).
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from lapis_proc import lapis_binary  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if not Path(lapis_binary()).exists():
        skip = pytest.mark.skip(reason=f"no lapis binary at {lapis_binary()} (cargo build --release -p lapis-server)")
        for item in items:
            item.add_marker(skip)
