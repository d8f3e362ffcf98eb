import json
from pathlib import Path

import pytest

BLNS_PATH = Path("/work/shared/data/blns.json")


def load_blns():
    """Return the Big List of Naughty Strings, or an empty list where the file is absent."""
    if not BLNS_PATH.exists():
        return []
    return json.loads(BLNS_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def blns():
    strings = load_blns()
    if not strings:
        pytest.skip(f"{BLNS_PATH} is not available")
    return strings
