"""Fixtures shared across test modules, and the test run's own compilation cache.

Every process of a test run, subprocesses included, compiles into one cache directory that
belongs to the run (`$MJX_NCLQL_COMPILE_CACHE`, set here before anything compiles), never the
user's `~/.cache`: so no test's speed depends on which test ran first or on earlier runs. CI
sets the variable itself to keep one cache across its two tiers.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from train_fixtures import hopper_run, reference_run

from mjx_nclql.runtime import compile_cache

_OWN_CACHE: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get(compile_cache.ENV_VAR):
        _OWN_CACHE.append(tempfile.mkdtemp(prefix="mjx_nclql-xla-"))
        os.environ[compile_cache.ENV_VAR] = _OWN_CACHE[0]
    compile_cache.enable(os.environ[compile_cache.ENV_VAR])  # in-process compiles too


def pytest_unconfigure(config: pytest.Config) -> None:
    for path in _OWN_CACHE:
        shutil.rmtree(path, ignore_errors=True)


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


@pytest.fixture(scope="session")
def hopper_run_dir(tmp_path_factory) -> str:
    """The tiny Hopper run of `train_fixtures.hopper_config` (with a rollout page at each
    evaluation), trained once per test run for evaluate, render and loading. Read-only: a
    test that writes into a run directory copies it first (`copy_run`)."""
    return hopper_run(str(tmp_path_factory.mktemp("hopper") / "run"))
