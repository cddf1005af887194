"""The account registration throttle: attempts per address in a sliding window, counted
whatever their answers, on an injected clock."""

from __future__ import annotations

import contextlib

import pytest

from hubbub.accounts.errors import AccountError
from hubbub.accounts.throttle import LoginThrottle, RegistrationThrottle
from tests.helpers import Clock


def test_an_address_past_its_attempts_waits_for_its_oldest_to_leave_the_window() -> None:
    clock = Clock(0.0)
    throttle = RegistrationThrottle(3, 600.0, clock)
    for _ in range(3):
        throttle.begin("192.0.2.1")
        clock.now += 100
    with pytest.raises(AccountError) as refused:
        throttle.begin("192.0.2.1")
    assert refused.value.code == "TEMPORARILY_UNAVAILABLE"
    assert str(refused.value) == (
        "Too many accounts registered from your address; "
        "wait 300 seconds before registering another"
    )
    throttle.begin("192.0.2.2")  # another address is not held up
    clock.now += 300  # the first attempt is 600 s old: one more may be made
    throttle.begin("192.0.2.1")
    with pytest.raises(AccountError, match="wait 100 seconds"):
        throttle.begin("192.0.2.1")


def test_refused_attempts_are_not_counted() -> None:
    clock = Clock(0.0)
    throttle = RegistrationThrottle(2, 60.0, clock)
    throttle.begin("192.0.2.1")
    throttle.begin("192.0.2.1")
    for _ in range(100):
        clock.now += 0.5
        with contextlib.suppress(AccountError):
            throttle.begin("192.0.2.1")
    clock.now = 60.0
    throttle.begin("192.0.2.1")


def test_an_ipv6_network_counts_as_one_address() -> None:
    throttle = RegistrationThrottle(2, 3600.0, Clock(0.0))
    throttle.begin("2001:db8:1:2::1")
    throttle.begin("2001:db8:1:2:ffff::1")
    with pytest.raises(AccountError):
        throttle.begin("2001:db8:1:2:abcd:ef01:2345:6789")
    throttle.begin("2001:db8:1:3::1")  # another /64
    throttle.begin("::ffff:192.0.2.1")  # IPv4, written as IPv6
    throttle.begin("192.0.2.1")
    with pytest.raises(AccountError):
        throttle.begin("192.0.2.1")


def test_no_limit_at_zero() -> None:
    throttle = RegistrationThrottle(0, 3600.0, Clock(0.0))
    for _ in range(1000):
        throttle.begin("192.0.2.1")
    assert len(throttle) == 0


def test_the_throttle_stays_bounded_under_endless_addresses() -> None:
    clock = Clock(0.0)
    throttle = RegistrationThrottle(3, 3600.0, clock, size=100)
    for i in range(20_000):
        clock.now += 0.01
        throttle.begin(f"10.{i % 7}.{i % 251}.{i % 13}")
    assert len(throttle) <= 100
    clock.now += 3600
    throttle.begin("192.0.2.1")
    assert len(throttle) == 1  # the others' attempts are out of the window, and forgotten


def test_a_node_tells_what_it_counts_and_counts_what_others_told() -> None:
    clock = Clock()
    told: list[tuple[str, tuple[str, ...]]] = []
    here, there = LoginThrottle(clock), LoginThrottle(clock)
    here.share = lambda step, keys: told.append((step, keys))
    for _ in range(3):
        here.begin("alice", "203.0.113.7")
    here.succeed("bob", "203.0.113.7")
    assert told == [("fail", ("alice", "203.0.113.7"))] * 3 + [("succeed", ("bob", "203.0.113.7"))]
    for step, keys in told:
        there.count_shared(step, keys)
    with pytest.raises(AccountError) as refused:
        there.begin("alice", "203.0.113.7")
    assert refused.value.code == "RATE_LIMITED"
    # What does not read as a step of this throttle is ignored.
    there.count_shared("fail", ("only one key",))
    there.count_shared("explode", ("alice", "203.0.113.7"))
    there.count_shared("succeed", ("alice", "203.0.113.7"))
    there.begin("alice", "203.0.113.7")


def test_registrations_counted_elsewhere_count_here() -> None:
    clock = Clock()
    told: list[tuple[str, tuple[str, ...]]] = []
    here, there = RegistrationThrottle(2, 60.0, clock), RegistrationThrottle(2, 60.0, clock)
    here.share = lambda step, keys: told.append((step, keys))
    here.begin("2001:db8::1")
    assert told == [("count", ("2001:db8::/64",))]
    for _ in range(5):  # more than the limit: the oldest make way
        there.count_shared("count", ("2001:db8::/64",))
    with pytest.raises(AccountError):
        there.begin("2001:db8::2")
    clock.now += 60.0
    there.begin("2001:db8::2")


def test_attempts_under_way_are_not_yet_failures_for_the_wait() -> None:
    clock = Clock(0.0)
    throttle = LoginThrottle(clock)
    # Eight devices behind one address log in at once: none is refused for the others.
    for _ in range(8):
        throttle.begin("alice", "203.0.113.7")
    for _ in range(8):
        throttle.succeed("alice", "203.0.113.7")
    # An attacker there gets the free three and eight under way, then waits for them all.
    for _ in range(11):
        throttle.begin("bob", "203.0.113.7")
    with pytest.raises(AccountError, match="try again in 2 seconds"):
        throttle.begin("bob", "203.0.113.7")
    for _ in range(11):
        throttle.failed("bob", "203.0.113.7")
    # Eight failures past the free three: 2 * 2**8 s.
    clock.now += 511
    with pytest.raises(AccountError, match="try again in 1 second"):
        throttle.begin("bob", "203.0.113.7")


def test_an_attempt_left_unfinished_counts_in_full_after_a_while() -> None:
    clock = Clock(0.0)
    throttle = LoginThrottle(clock, settle_within=30.0)
    for _ in range(10):
        throttle.begin("bob", "203.0.113.7")  # never finished: connections left open
    clock.now += 31
    # Unfinished for 30 s: ten failures, the wait after the last is 2 * 2**7 s.
    with pytest.raises(AccountError, match="try again in 225 seconds"):
        throttle.begin("bob", "203.0.113.7")
    assert throttle.entries() <= 3
