"""Fixtures for the core's tests: a chat with no sockets (see :mod:`tests.core.world`)."""

from __future__ import annotations

import pytest

# Its helpers assert (World.refusal): their failures should read like the tests' own.
pytest.register_assert_rewrite("tests.core.world")

from hubbub.cluster.local import LocalBus, LocalRegistry  # noqa: E402
from hubbub.core.hub import Hub  # noqa: E402
from hubbub.core.state import ChatLimits  # noqa: E402
from hubbub.wire.casemap import Casemap, Casemapping  # noqa: E402
from tests.core.world import World  # noqa: E402
from tests.helpers import Clock  # noqa: E402


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def hub() -> Hub:
    """A bare hub whose users join at most three channels."""
    return Hub(
        Casemap(Casemapping.PRECIS),
        ChatLimits(channels_per_user=3),
        clock=Clock(),
        bus=LocalBus(),
        registry=LocalRegistry(),
    )
