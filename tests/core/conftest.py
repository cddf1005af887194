"""Fixtures for the core's tests: a chat with no sockets (see :mod:`tests.core.world`)."""

from __future__ import annotations

import pytest

# Its helpers assert (World.refusal): their failures should read like the tests' own.
pytest.register_assert_rewrite("tests.core.world")

from tests.core.world import World  # noqa: E402


@pytest.fixture
def world() -> World:
    return World()
