"""Fixtures for the core's tests: a chat with no sockets (see :mod:`tests.core.world`)."""

from __future__ import annotations

import pytest

from tests.core.world import World


@pytest.fixture
def world() -> World:
    return World()
