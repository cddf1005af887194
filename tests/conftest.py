"""Fixtures for every test package."""

from __future__ import annotations

import pytest

from tests.helpers import Harness


@pytest.fixture
def harness() -> Harness:
    return Harness()
