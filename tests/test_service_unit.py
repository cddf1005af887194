"""The systemd unit in packaging/: systemd accepts it, its sandbox is as documented, and
the command it runs is one ``hubbub serve`` accepts, with its data in the state folder."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hubbub.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "packaging" / "hubbub.service"
# Where the unit expects hubbub (README: "Installing and running as a service").
INSTALLED = "/opt/hubbub/bin/hubbub"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (.ci/run installs it)"
)


def service_settings(text: str) -> dict[str, list[str]]:
    """The [Service] section's settings, each key with its values in order."""
    settings: dict[str, list[str]] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), "a continued line: the reading below would miss it"
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


SERVICE = service_settings(UNIT.read_text(encoding="utf-8"))


@pytest.fixture
def verifiable_unit(tmp_path: Path) -> Path:
    """A copy of the unit whose ExecStart is this environment's hubbub: systemd checks
    that the program exists and is executable."""
    here = Path(sys.executable).parent / "hubbub"
    assert here.is_file(), "hubbub's console script is missing beside this interpreter"
    text = UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED} " in text
    copy = tmp_path / "hubbub.service"
    copy.write_text(text.replace(f"ExecStart={INSTALLED} ", f"ExecStart={here} "))
    return copy


@needs_systemd_analyze
def test_systemd_analyze_verifies_the_unit_without_a_word(verifiable_unit: Path) -> None:
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", str(verifiable_unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Unknown keys and bad values are only warnings (exit 0): the unit must have none.
    said = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if verifiable_unit.name in line
    ]
    assert result.returncode == 0, result.stdout + result.stderr
    assert said == []


@needs_systemd_analyze
def test_systemd_rates_the_units_exposure_low(verifiable_unit: Path) -> None:
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run(
        # The threshold is in tenths: an exposure of 2.0 or less, of systemd's 10.
        [SYSTEMD_ANALYZE, "security", "--offline=yes", "--threshold=20", str(verifiable_unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_the_unit_runs_hubbub_serve_with_its_data_in_the_state_directory() -> None:
    [command] = SERVICE["ExecStart"]
    program, *args = shlex.split(command)
    assert program == INSTALLED
    parsed = build_parser().parse_args(args)
    assert parsed.command == "serve"
    [state] = SERVICE["StateDirectory"]
    assert parsed.data_dir == Path("/var/lib") / state
    assert SERVICE["StateDirectoryMode"] == ["0700"]
    assert parsed.config == Path("/etc/hubbub/hubbub.toml")


def test_reloading_the_unit_sends_sighup_to_hubbub() -> None:
    # hubbub serve reloads its config file on SIGHUP (tests/test_cli.py checks it does).
    [reload] = SERVICE["ExecReload"]
    assert shlex.split(reload)[1:] == ["-HUP", "$MAINPID"]
    assert Path(shlex.split(reload)[0]).name == "kill"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("AmbientCapabilities", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
        ("SystemCallArchitectures", "native"),
        ("User", "hubbub"),
    ],
)
def test_the_unit_is_sandboxed_as_documented(key: str, value: str) -> None:
    assert value in SERVICE.get(key, [])
