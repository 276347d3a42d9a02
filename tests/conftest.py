"""Fixtures shared across test modules."""

from __future__ import annotations

import pytest
from train_fixtures import reference_run


@pytest.fixture(scope="session")
def _reference_and_traces(tmp_path_factory):
    return reference_run(str(tmp_path_factory.mktemp("train")))


@pytest.fixture(scope="session")
def reference(_reference_and_traces):
    """The probe run of `train_fixtures.probe_config` (2 seeds, 8 chunks), trained once."""
    return _reference_and_traces[0]


@pytest.fixture(scope="session")
def reference_traces(_reference_and_traces):
    """How often the reference run traced each trainer function."""
    return _reference_and_traces[1]
