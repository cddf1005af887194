"""Fixtures for the plain-door session tests."""

from __future__ import annotations

import pytest

from tests.doors.plain.support import PlainDoor
from tests.helpers import Harness


@pytest.fixture
def door(harness: Harness) -> PlainDoor:
    return PlainDoor(harness)
