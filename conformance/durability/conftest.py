import sys
from pathlib import Path

# The launcher shared with the reliability tests.
sys.path.insert(0, str(Path(__file__).parent.parent))
