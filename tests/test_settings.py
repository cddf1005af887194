"""Settings: config files read with tomllib, validated whole, errors that say where."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from hubbub.accounts.passwords import hash_password, is_hash, verify_password
from hubbub.config import SERVER_KEYS, load_config
from hubbub.reference import reference_config
from hubbub.settings import (
    RESTART_ONLY,
    RESTART_ONLY_LIMITS,
    ConfigError,
    Limits,
    Listen,
    Oper,
    Settings,
    kept_for_restart,
    restart_needed,
    validate,
)
from hubbub.wire.casemap import Casemapping

OPER_HASH = hash_password("s3cret")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hubbub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str) -> str:
    """The message of the ConfigError that loading ``text`` raises."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def assert_names(message: str, key: str, line: int) -> None:
    """The message names the key and points at ``file:line``."""
    assert key in message, message
    assert re.search(rf"hubbub\.toml:{line}\b", message), message


# -- a valid file ----------------------------------------------------------------------


VALID = f"""\
# hubbub test configuration
[server]
name = "irc.example.org"
network = "ExampleNet"
description = "An example server"
casemapping = "rfc1459"
log_level = "DEBUG"
motd = "motd.txt"
admin_email = "admin@example.org"

[[listen]]
host = "127.0.0.1"
port = 6667

[[listen]]
host = "::1"
port = 6697

[[listen]]
port = 7000

[[oper]]
name = "admin"
password = "{OPER_HASH}"

[[oper]]
name = "helper"
password = "{hash_password("other")}"

[limits]
sendq = 65536
registration_timeout = 5
ping_interval = 30.5
nicklen = 20
targets = 2
"""


def test_valid_config_file_sets_server_fields(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    settings = load_config(path)
    assert settings.server_name == "irc.example.org"
    assert settings.network_name == "ExampleNet"
    assert settings.description == "An example server"
    assert settings.casemapping is Casemapping.RFC1459
    assert settings.log_level == "DEBUG"
    assert settings.admin_email == "admin@example.org"
    assert settings.config_file == path


def test_valid_config_file_reads_every_listen_block_including_ipv6(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, VALID))
    assert settings.listen == (
        Listen("127.0.0.1", 6667),
        Listen("::1", 6697),
        Listen("127.0.0.1", 7000),
    )


def test_valid_config_file_keeps_oper_hashes_that_verify(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, VALID))
    assert [oper.name for oper in settings.opers] == ["admin", "helper"]
    assert settings.opers[0] == Oper("admin", OPER_HASH)
    assert verify_password("s3cret", settings.opers[0].password)
    assert not verify_password("wrong", settings.opers[0].password)
    assert verify_password("other", settings.opers[1].password)


def test_valid_config_file_overrides_only_the_limits_it_names(tmp_path: Path) -> None:
    limits = load_config(write(tmp_path, VALID)).limits
    assert limits.sendq == 65536
    assert limits.registration_timeout == 5.0
    assert isinstance(limits.registration_timeout, float)
    assert limits.ping_interval == 30.5
    assert limits.nicklen == 20
    assert limits.targets == 2
    defaults = Limits()
    assert limits.line_length == defaults.line_length
    assert limits.ping_timeout == defaults.ping_timeout


def test_relative_motd_path_is_resolved_beside_the_config_file(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, VALID))
    assert settings.motd_file == tmp_path / "motd.txt"


def test_config_file_leaves_unset_fields_at_their_defaults(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, '[server]\nname = "irc.example.org"\n'))
    defaults = Settings(server_name="irc.example.org")
    assert settings.listen == defaults.listen == (Listen("127.0.0.1", 6667),)
    assert settings.casemapping is Casemapping.PRECIS
    assert settings.opers == ()
    assert settings.limits == Limits()
    assert settings.network_name == "hubbub"


def test_empty_config_file_gives_the_defaults(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, ""), Settings(server_name="irc.example.org"))
    assert settings.server_name == "irc.example.org"
    assert settings.limits == Limits()


def test_config_file_is_applied_over_the_given_base(tmp_path: Path) -> None:
    base = Settings(server_name="irc.base.org", network_name="BaseNet")
    settings = load_config(write(tmp_path, '[server]\nnetwork = "FileNet"\n'), base)
    assert settings.server_name == "irc.base.org"
    assert settings.network_name == "FileNet"


# -- invalid files: the error names the key and its line --------------------------------


def test_unknown_server_key_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(
        tmp_path, '[server]\nname = "irc.example.org"\nnmae = "typo.example.org"\n'
    )
    assert_names(message, "server.nmae", 3)
    assert "unknown key" in message


def test_unknown_limits_key_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "\n[limits]\nsendq = 1000\nsend_q = 1000\n")
    assert_names(message, "limits.send_q", 4)
    assert "unknown key" in message


def test_unknown_listen_key_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[[listen]]\nhost = "127.0.0.1"\naddress = "::1"\n')
    assert_names(message, "listen.address", 3)


def test_wrong_type_for_a_limit_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[limits]\nnicklen = 20\nsendq = "big"\n')
    assert_names(message, "limits.sendq", 3)
    assert "'big'" in message


def test_boolean_is_not_accepted_as_a_number(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[limits]\nsendq = true\n")
    assert_names(message, "limits.sendq", 2)


def test_fraction_is_not_accepted_for_a_whole_number_limit(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[limits]\n\nnicklen = 20.5\n")
    assert_names(message, "limits.nicklen", 3)


def test_wrong_type_for_a_server_key_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[server]\nnetwork = 42\n")
    assert_names(message, "server.network", 2)


def test_wrong_type_for_a_listen_port_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[[listen]]\nhost = "::1"\nport = "6667"\n')
    assert_names(message, "listen.port", 3)


def test_bad_casemapping_is_named_with_its_line_and_the_choices(tmp_path: Path) -> None:
    message = config_error(
        tmp_path, '[server]\nname = "irc.example.org"\ncasemapping = "unicode"\n'
    )
    assert_names(message, "server.casemapping", 3)
    for choice in ("ascii", "rfc1459", "rfc8265"):
        assert choice in message


def test_unknown_section_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(
        tmp_path, '[server]\nname = "irc.example.org"\n\n[database]\nurl = "x"\n'
    )
    assert_names(message, "database", 4)
    assert "unknown section" in message


def test_plain_oper_password_is_refused_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[[oper]]\nname = "admin"\npassword = "hunter2"\n')
    assert_names(message, "oper.password", 3)
    assert "mkpasswd" in message
    assert "hunter2" not in message


def test_oper_without_a_password_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[[oper]]\nname = "admin"\n')
    assert "oper.password" in message


def test_invalid_toml_is_reported_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[server]\nname = "irc.example.org"\nnetwork = \n')
    assert "hubbub.toml" in message
    assert "not valid TOML" in message
    assert "line 3" in message


def test_unterminated_table_header_is_invalid_toml_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[server]\n\n[limits\nsendq = 1\n")
    assert "not valid TOML" in message
    assert "line 3" in message


def test_listen_written_as_a_single_table_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[listen]\nport = 6667\n")
    assert_names(message, "listen", 1)
    assert "[[listen]]" in message


def test_port_out_of_range_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[[listen]]\nport = 70000\n")
    assert_names(message, "listen.port", 2)
    assert "70000" in message


def test_error_in_second_listen_block_points_at_that_block(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        '[[listen]]\nhost = "127.0.0.1"\nport = 6667\n\n[[listen]]\nhost = "::1"\nport = 99999\n',
    )
    assert_names(message, "listen.port", 7)


def test_error_in_second_oper_block_points_at_that_block(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        f'[[oper]]\nname = "a"\npassword = "{OPER_HASH}"\n\n'
        '[[oper]]\nname = "b"\npassword = "plain"\n',
    )
    assert_names(message, "oper.password", 7)


def test_key_is_found_in_its_own_table_not_an_earlier_one(tmp_path: Path) -> None:
    # "name" appears first in [[oper]]; the bad server name is on line 6.
    message = config_error(
        tmp_path,
        f'[[oper]]\nname = "admin"\npassword = "{OPER_HASH}"\n\n[server]\nname = "nodots"\n',
    )
    assert_names(message, "server.name", 6)


def test_server_name_without_a_dot_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[server]\nnetwork = "Net"\nname = "localhost"\n')
    assert_names(message, "server.name", 3)


def test_non_positive_limit_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[limits]\nsendq = 1024\nping_timeout = 0\n")
    assert_names(message, "limits.ping_timeout", 3)
    assert "positive" in message


def test_line_length_below_rfc_minimum_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[limits]\nline_length = 100\n")
    assert_names(message, "limits.line_length", 2)


def test_unknown_log_level_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[server]\nlog_level = "LOUD"\n')
    assert_names(message, "server.log_level", 2)


def test_section_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'server = "irc.example.org"\n')
    assert "server" in message
    assert "must be a table" in message


def test_tls_listener_without_a_certificate_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[[listen]]\nport = 6697\ntls = true\n")
    assert_names(message, "listen.tls", 3)


def test_tls_cert_without_tls_key_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[server]\ntls_cert = "cert.pem"\n')
    assert_names(message, "server.tls_cert", 2)


def test_tls_files_are_resolved_beside_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\ntls_cert = "cert.pem"\ntls_key = "/abs/key.pem"\n')
    settings = load_config(path, Settings(server_name="irc.example.org"))
    assert settings.tls_cert == tmp_path / "cert.pem"
    assert settings.tls_key == Path("/abs/key.pem")


def test_a_client_ca_without_a_server_certificate_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[server]\ntls_client_ca = "ca.pem"\n')
    assert_names(message, "server.tls_client_ca", 2)


def test_the_client_ca_is_resolved_beside_the_config_file(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[server]\ntls_cert = "c.pem"\ntls_key = "k.pem"\ntls_client_ca = "ca.pem"\n'
    )
    settings = load_config(path, Settings(server_name="irc.example.org"))
    assert settings.tls_client_ca == tmp_path / "ca.pem"


def test_trusted_networks_are_read_as_a_tuple(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\ntrusted = ["127.0.0.0/8", "::1"]\n')
    settings = load_config(path, Settings(server_name="irc.example.org"))
    assert settings.trusted == ("127.0.0.0/8", "::1")


def test_trusted_entry_that_is_not_a_network_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[server]\n\ntrusted = ["10.0.0.0/8", "intranet"]\n')
    assert_names(message, "server.trusted", 3)
    assert "intranet" in message


def test_trusted_entry_that_is_not_a_string_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[server]\ntrusted = [1]\n")
    assert_names(message, "server.trusted", 2)


def test_zero_turns_off_flood_control_and_the_per_ip_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits]\nflood_rate = 0\nconnections_per_ip = 0\n")
    limits = load_config(path, Settings(server_name="irc.example.org")).limits
    assert limits.flood_rate == 0
    assert limits.connections_per_ip == 0


def test_the_register_throttle_is_set_in_limits_and_zero_turns_it_off(tmp_path: Path) -> None:
    assert (Limits().register_per_address, Limits().register_window) == (10, 3600.0)
    path = write(tmp_path, "[limits]\nregister_per_address = 3\nregister_window = 600\n")
    limits = load_config(path, Settings(server_name="irc.example.org")).limits
    assert (limits.register_per_address, limits.register_window) == (3, 600.0)
    path = write(tmp_path, "[limits]\nregister_per_address = 0\n")
    assert (
        load_config(path, Settings(server_name="irc.example.org")).limits.register_per_address == 0
    )
    message = config_error(tmp_path, "[limits]\nregister_window = 0\n")
    assert_names(message, "limits.register_window", 2)


def test_zero_flood_burst_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[limits]\nflood_burst = 0\n")
    assert_names(message, "limits.flood_burst", 2)


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


# -- validate() for values from flags ---------------------------------------------------


def test_validate_accepts_the_defaults_with_a_dotted_name() -> None:
    settings = Settings(server_name="irc.example.org")
    assert validate(settings) is settings


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"server_name": "nodot"}, "name"),
        ({"network_name": "has space"}, "network"),
        ({"log_level": "chatty"}, "log_level"),
        ({"listen": ()}, "port"),
        ({"listen": (Listen("127.0.0.1", 65536),)}, "port"),
        ({"limits": Limits(sendq=0)}, "sendq"),
        ({"limits": Limits(nicklen=5)}, "nicklen"),
    ],
)
def test_validate_names_the_setting_of_a_bad_flag_value(
    changes: dict[str, object], key: str
) -> None:
    settings = Settings(server_name="irc.example.org").replace(**changes)
    with pytest.raises(ConfigError, match=rf"^{key}: "):
        validate(settings)


# -- passwords -------------------------------------------------------------------------


def test_hash_password_makes_a_salted_scrypt_hash() -> None:
    # A space is never part of the encoded salt or hash, so finding it would mean the
    # password itself was kept (a bare "pw" turned up in random base64 now and then).
    first, second = hash_password("p w"), hash_password("p w")
    assert is_hash(first)
    assert first.startswith("scrypt$")
    assert first != second
    assert "p w" not in first


def test_verify_password_accepts_the_right_password_for_a_hash() -> None:
    stored = hash_password("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horse ", stored)
    assert not verify_password("", stored)


def test_verify_password_compares_plain_stored_passwords() -> None:
    assert not is_hash("hunter2")
    assert verify_password("hunter2", "hunter2")
    assert not verify_password("hunter3", "hunter2")
    assert not verify_password("Hunter2", "hunter2")


def test_verify_password_handles_non_ascii_passwords() -> None:
    stored = hash_password("пароль✓")
    assert verify_password("пароль✓", stored)
    assert not verify_password("пароль", stored)
    assert verify_password("пароль✓", "пароль✓")


def test_verify_password_refuses_a_corrupt_hash() -> None:
    assert not verify_password("pw", "scrypt$not base64!$also not")


# -- the database ----------------------------------------------------------------------


def test_database_url_is_read_from_the_server_table_and_kept_out_of_repr(
    tmp_path: Path,
) -> None:
    url = "postgresql://hubbub:s3cret@db.example.org/chat"
    settings = load_config(write(tmp_path, f'[server]\ndatabase_url = "{url}"\n'))
    assert settings.database_url == url
    assert Settings().database_url is None
    assert "s3cret" not in repr(settings)


def test_a_database_url_that_is_not_postgresql_is_named_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[server]\nname = "irc.x.org"\ndatabase_url = "x.db"\n')
    assert_names(message, "server.database_url", 3)
    assert "postgresql://" in message


def test_sync_history_or_a_database_with_history_off_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[server]\nhistory = false\nhistory_sync = true\n")
    assert_names(message, "server.history_sync", 3)
    message = config_error(
        tmp_path, '[server]\nhistory = false\ndatabase_url = "postgresql://h/db"\n'
    )
    assert_names(message, "server.database_url", 3)


ROOT = Path(__file__).parent.parent


def listed_keys(text: str) -> dict[str, dict[str, str]]:
    """The keys a TOML reference shows (commented out or not), by section, with the value
    written for each."""
    sections: dict[str, dict[str, str]] = {}
    current = sections.setdefault("", {})
    for raw in text.splitlines():
        line = raw.strip().removeprefix("# ").strip()
        header = re.fullmatch(r"\[\[?(\w+)\]\]?(\s*#.*)?", line)
        if header:
            current = sections.setdefault(header[1], {})
            continue
        found = re.match(r"(\w+) = (\S+)", line)
        if found:
            current[found[1]] = found[2]
    return sections


@pytest.mark.parametrize("reference", ["docs/configuration.md", "hubbub.example.toml"])
def test_the_config_reference_shows_every_key_and_every_limits_default(reference: str) -> None:
    shown = listed_keys((ROOT / reference).read_text())
    assert set(shown["server"]) == set(SERVER_KEYS)
    assert set(shown["listen"]) == {"host", "port", "tls"}
    assert set(shown["oper"]) == {"name", "password"}
    assert set(shown["plain"]) == {"enabled", "host", "port", "room", "language"}
    assert set(shown["web"]) == {"enabled", "host", "port", "origins", "hosts", "tls", "root"}
    assert sorted(shown["limits"]) == sorted(f.name for f in dataclasses.fields(Limits))
    defaults = Limits()
    for name, written in shown["limits"].items():
        assert float(written) == getattr(defaults, name), name


def test_the_example_config_file_is_the_generated_reference_and_holds_the_defaults() -> None:
    kept = (ROOT / "hubbub.example.toml").read_text()
    assert kept == reference_config(), "run: hubbub config example > hubbub.example.toml"
    settings = load_config(ROOT / "hubbub.example.toml")
    # Every key not commented out is at its default: the file explains, it changes nothing.
    assert settings.replace(config_file=None) == Settings()


def test_every_key_of_the_reference_is_explained_but_the_obvious_ones() -> None:
    text = reference_config()
    lines = text.splitlines()
    bare = []
    for number, line in enumerate(lines):
        found = re.match(r"(# )?(\w+) = ", line)
        if found and " # " not in line and not lines[number - 1].startswith("# "):
            bare.append(found[2])
    # Which of a door's listeners it is, and the second of a pair, need no words.
    assert sorted(bare) == [
        "admin_email",
        "channellen",
        "host",
        "host",
        "port",
        "port",
        "port",
        "register_email_required",
        "register_window",
    ]


def test_every_mistake_of_a_config_file_is_reported_in_one_run(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        '[server]\nnetwrok = "home"\n\n[limits]\nsendq = "big"\n\n[plian]\nroom = "#x"\n',
    )
    lines = message.splitlines()
    assert len(lines) == 3, message
    assert_names(lines[0], "server.netwrok", 2)
    assert "did you mean 'network'?" in lines[0]
    assert_names(lines[1], "limits.sendq", 5)
    assert "must be a whole number, not 'big'" in lines[1]
    assert_names(lines[2], "plian", 7)
    assert "unknown section (did you mean 'plain'?)" in lines[2]


def test_mistakes_in_values_every_source_must_respect_are_reported_together(
    tmp_path: Path,
) -> None:
    message = config_error(tmp_path, '[server]\nname = "nodot"\n\n[limits]\nnicklen = 5\n')
    lines = message.splitlines()
    assert len(lines) == 2, message
    assert_names(lines[0], "server.name", 2)
    assert_names(lines[1], "limits.nicklen", 5)


def test_a_cluster_section_names_nats_and_this_node_and_needs_a_shared_database(
    tmp_path: Path,
) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "hubbub.toml"
    path.write_text(
        '[server]\ndatabase_url = "postgresql://h@db/chat"\n\n'
        '[cluster]\nurls = ["nats://10.0.0.5:4222", "tls://10.0.0.6:4222"]\nnode = "irc1"\n'
        'credentials = "hubbub.creds"\ntls_ca = "/etc/nats/ca.pem"\n'
    )
    cluster = load_config(path).cluster
    assert cluster is not None
    assert cluster.urls == ("nats://10.0.0.5:4222", "tls://10.0.0.6:4222")
    assert cluster.node == "irc1"
    assert cluster.credentials == tmp_path / "conf" / "hubbub.creds"  # beside the file
    assert cluster.tls_ca == Path("/etc/nats/ca.pem")
    # One URL may be given as text; a wrong one, a bad node name and SQLite are refused.
    message = config_error(
        tmp_path, '[cluster]\nurls = "http://10.0.0.5"\nnode = "irc 1"\nsecret = 1\n'
    )
    assert "cluster.secret" in message
    message = config_error(tmp_path, '[cluster]\nurls = "http://10.0.0.5"\nnode = "irc 1"\n')
    assert "is not a URL like nats://host:4222" in message
    assert "must be 1 to 64 letters" in message
    assert "share one PostgreSQL" in message


def test_what_only_a_restart_applies_names_settings_that_exist() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert set(RESTART_ONLY) <= fields
    assert set(RESTART_ONLY_LIMITS) <= {f.name for f in dataclasses.fields(Limits)}
    assert restart_needed(Settings(), Settings()) == []


def test_a_metrics_host_without_a_port_is_refused_with_its_line(tmp_path: Path) -> None:
    message = config_error(
        tmp_path, '[server]\nname = "irc.example.org"\nmetrics_host = "10.0.0.5"\n'
    )
    assert_names(message, "server.metrics_host", 3)
    assert "needs metrics_port too" in message


def test_a_metrics_port_out_of_range_is_refused_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[server]\nname = "irc.example.org"\nmetrics_port = 70000\n')
    assert_names(message, "server.metrics_port", 3)
    assert "is not a port number" in message


def test_limits_a_running_server_fixed_at_start_are_named_and_kept_on_reload() -> None:
    running = Settings()
    loaded = Settings(limits=Limits(nicklen=50, history_flush=1.0, password_min=12, topiclen=42))
    assert restart_needed(running, loaded) == [
        "limits.nicklen",
        "limits.history_flush",
        "limits.password_min",
    ]
    kept = kept_for_restart(running, loaded)
    assert (kept.limits.nicklen, kept.limits.history_flush, kept.limits.password_min) == (
        30,
        0.05,
        8,
    )
    assert kept.limits.topiclen == 42
