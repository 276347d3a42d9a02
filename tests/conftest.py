"""Fixtures shared across test modules."""

from __future__ import annotations

import pytest
from train_fixtures import reference_run


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """The probe run of `train_fixtures.probe_config` (2 seeds, 8 chunks), trained once."""
    return reference_run(str(tmp_path_factory.mktemp("train")))
