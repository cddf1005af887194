"""SCRAM-SHA-256, the server's side: RFC 7677's example exchange, and what is refused."""

from __future__ import annotations

import base64

import pytest
import scramp
from hypothesis import given
from hypothesis import strategies as st

from hubbub.accounts.scram import Exchange, ScramError, Verifier, decoy_verifier, make_verifier

# RFC 7677 §3: user "user", password "pencil".
CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
SERVER_FIRST = (
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
CLIENT_FINAL = (
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def rfc_exchange() -> Exchange:
    exchange = Exchange(server_nonce=SERVER_NONCE)
    assert exchange.receive_first(CLIENT_FIRST) == "user"
    assert exchange.server_first(make_verifier("pencil", SALT)) == SERVER_FIRST
    return exchange


def test_the_rfc_7677_example_exchange_succeeds_with_its_signature() -> None:
    assert rfc_exchange().receive_final(CLIENT_FINAL) == SERVER_FINAL


def test_a_wrong_password_fails_at_the_proof() -> None:
    exchange = Exchange(server_nonce=SERVER_NONCE)
    exchange.receive_first(CLIENT_FIRST)
    exchange.server_first(make_verifier("not pencil", SALT))
    with pytest.raises(ScramError, match="invalid credentials"):
        exchange.receive_final(CLIENT_FINAL)


def test_a_decoy_verifier_looks_stable_and_accepts_nothing() -> None:
    assert decoy_verifier("nobody", b"k") == decoy_verifier("nobody", b"k")
    assert decoy_verifier("nobody", b"k").salt != decoy_verifier("somebody", b"k").salt
    exchange = Exchange(server_nonce=SERVER_NONCE)
    exchange.receive_first(CLIENT_FIRST)
    exchange.server_first(decoy_verifier("user", b"k"))
    with pytest.raises(ScramError):
        exchange.receive_final(CLIENT_FINAL)


def test_a_verifier_survives_encoding() -> None:
    verifier = make_verifier("pencil", SALT)
    assert Verifier.decode(verifier.encode()) == verifier


@pytest.mark.parametrize("text", ["", "SCRAM-SHA-256$x", "MD5$1:AA==$AA==:AA==", "a$b$c"])
def test_a_malformed_stored_verifier_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError subclass is fine
        Verifier.decode(text)


def test_scramp_as_the_client_logs_in_and_checks_the_server() -> None:
    client = scramp.ScramClient(["SCRAM-SHA-256"], "alice", "s3cret-pass")
    exchange = Exchange()
    assert exchange.receive_first(client.get_client_first()) == "alice"
    client.set_server_first(exchange.server_first(make_verifier("s3cret-pass")))
    client.set_server_final(exchange.receive_final(client.get_client_final()))


def test_names_with_escaped_commas_and_equals_signs_are_unescaped() -> None:
    exchange = Exchange()
    assert exchange.receive_first("n,,n=a=2Cb=3Dc,r=nonce") == "a,b=c"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("", "malformed"),
        ("n,,", "malformed"),
        ("x,,n=user,r=abc", "malformed"),
        ("p=tls-unique,,n=user,r=abc", "channel binding"),
        ("n,,r=abc,n=user", "malformed"),
        ("n,,n=user", "malformed"),
        ("n,,n=user,r=", "malformed"),
        ("n,,n=,r=abc", "user name"),
        ("n,,n=a=2Xb,r=abc", "user name"),
        ("n,,n=user,r=abc,m=ext", "extensions"),
        ("n,x=y,n=user,r=abc", "malformed"),
        ("n,,n=" + "u" * 400 + ",r=abc", "user name"),
        ("n,,n=user,r=a\x01c", "nonce"),
    ],
)
def test_malformed_client_first_messages_are_refused(message: str, reason: str) -> None:
    with pytest.raises(ScramError, match=reason):
        Exchange().receive_first(message)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("", "malformed"),
        ("c=biws,r=x", "malformed"),
        ("p=abc", "malformed"),
        ("c=!!,r=x,p=abc", "malformed"),
        ("c=eSws,r=" + CLIENT_FINAL.split(",r=")[1], "channel binding"),
        ("c=biws,r=other,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "nonce"),
        (CLIENT_FINAL.rsplit(",p=")[0] + ",p=AAAA", "invalid credentials"),
    ],
)
def test_malformed_client_final_messages_are_refused(message: str, reason: str) -> None:
    with pytest.raises(ScramError, match=reason):
        rfc_exchange().receive_final(message)


def test_a_final_message_before_the_first_is_refused() -> None:
    with pytest.raises(ScramError, match="unexpected"):
        Exchange().receive_final(CLIENT_FINAL)


@given(st.text(max_size=300), st.text(max_size=300))
def test_any_client_messages_either_work_or_raise_scram_error(first: str, final: str) -> None:
    exchange = Exchange()
    try:
        exchange.receive_first(first)
        exchange.server_first(make_verifier("pw", b"salt", iterations=1))
        exchange.receive_final(final)
    except ScramError:
        pass
