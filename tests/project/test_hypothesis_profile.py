"""The property tests of `make test` and CI are derandomised (tests/conftest.py): the same
inputs every run, no wall-clock deadline; `make fuzz` draws new ones."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from testpaths import HYPOTHESIS_PROFILE_ENV


@pytest.fixture
def fixed_profile():
    if os.environ.get(HYPOTHESIS_PROFILE_ENV, "fixed") != "fixed":
        pytest.skip(f"{HYPOTHESIS_PROFILE_ENV} chose another profile")


def test_the_default_profile_is_derandomised(fixed_profile):
    assert settings.default.derandomize is True
    assert settings.default.database is None and settings.default.deadline is None


def test_every_collected_property_test_is_derandomised(fixed_profile, request):
    """Whatever a test's own @settings say, the seed is fixed and no input has a deadline."""
    found = 0
    for item in request.session.items:
        fn = getattr(item, "obj", None)
        own = getattr(getattr(fn, "hypothesis", None), "inner_test", None)
        if own is None:
            continue
        found += 1
        s = fn._hypothesis_internal_use_settings
        assert s.derandomize is True and s.deadline is None, item.nodeid
    if found == 0:
        pytest.skip("no property test collected in this run")
