from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.orm import Session


def load_world_module() -> ModuleType:
    """tests/funnel/world.py as module `attain_test_world` (test folders are not packages)."""
    if "attain_test_world" in sys.modules:
        return sys.modules["attain_test_world"]
    spec = importlib.util.spec_from_file_location("attain_test_world", Path(__file__).parent / "world.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["attain_test_world"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


world_module = load_world_module()


@pytest.fixture
def world(session: Session):  # type: ignore[no-untyped-def]
    return world_module.build(session)
