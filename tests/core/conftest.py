"""Fixtures for the core's tests: a chat with no sockets (see :mod:`tests.core.world`)."""

from __future__ import annotations

import pytest

from hubbub.cluster.local import LocalBus, LocalRegistry
from hubbub.core.hub import Hub
from hubbub.core.state import ChatLimits
from hubbub.wire.casemap import Casemap, Casemapping
from tests.core.world import World
from tests.helpers import Clock


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
