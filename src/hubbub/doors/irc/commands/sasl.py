"""SASL on IRC (AUTHENTICATE): PLAIN, SCRAM-SHA-256 and EXTERNAL.

Theory of operation (IRCv3 sasl-3.1). ``AUTHENTICATE <mechanism>`` starts an attempt and
the server answers ``AUTHENTICATE +``. Each side then sends its messages base64-encoded,
in 400-byte chunks; a chunk shorter than 400 bytes ends a message, and a lone ``+``
is an empty one (or ends a message whose length was a multiple of 400). PLAIN and
EXTERNAL take one client message; SCRAM takes client-first, then client-final, then an
empty message after the server's signature. ``AUTHENTICATE *`` aborts at any point;
any failure ends the attempt with 904, and the client may start another.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from hubbub.accounts import scram
from hubbub.accounts.errors import AccountError
from hubbub.doors.irc.caps import sasl_mechanisms
from hubbub.doors.irc.command import Command, ConnectionCommand
from hubbub.doors.irc.commands.accounts import current_account, logged_in
from hubbub.doors.irc.commands.bans import unless_banned
from hubbub.doors.irc.exchanges import SaslAttempt
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from hubbub.accounts.ports import Account
    from hubbub.accounts.service import Accounts
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message

# SASL: "clients MUST split the payload into 400-byte chunks"; a whole payload is bounded.
_CHUNK = 400
_MAX_PAYLOAD = 4096


# A device's name, after the @ of ``account@device``.
_DEVICE = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def _fail(session: IrcClient, reason: str) -> None:
    session.sasl = None
    session.numeric(n.ERR_SASLFAIL, f"SASL authentication failed: {reason}")


def _challenge(session: IrcClient, data: bytes) -> None:
    """Send a server message in 400-byte chunks; "+" for an empty one, or after a last
    chunk of exactly 400 bytes."""
    encoded = base64.b64encode(data).decode("ascii")
    for start in range(0, len(encoded), _CHUNK):
        session.message("AUTHENTICATE", encoded[start : start + _CHUNK], source="")
    if len(encoded) % _CHUNK == 0:
        session.message("AUTHENTICATE", "+", source="")


def authenticate(session: IrcClient, message: Message) -> Awaitable[None] | None:
    argument = message.params[0]
    accounts = session.ctx.accounts
    if accounts is None:
        session.numeric(n.ERR_SASLFAIL, "SASL authentication failed: no accounts here")
        return None
    attempt = session.sasl
    if attempt is None:
        if current_account(session) is not None:
            session.numeric(n.ERR_SASLALREADY, "You have already authenticated using SASL")
            return None
        mechanism = argument.upper()
        mechanisms = sasl_mechanisms(session.ctx.settings.tls_client_ca is not None)
        if mechanism not in mechanisms:
            session.numeric(n.RPL_SASLMECHS, ",".join(mechanisms), "are available SASL mechanisms")
            session.numeric(n.ERR_SASLFAIL, "SASL authentication failed")
            return None
        session.sasl = SaslAttempt(mechanism)
        session.message("AUTHENTICATE", "+", source="")
        return None
    if argument == "*":
        session.sasl = None
        session.numeric(n.ERR_SASLABORTED, "SASL authentication aborted")
        return None
    if len(argument) > _CHUNK:
        session.sasl = None
        session.numeric(n.ERR_SASLTOOLONG, "SASL message too long")
        return None
    if argument != "+":
        attempt.received += argument.encode()
        if len(attempt.received) > _MAX_PAYLOAD:
            # ERR_SASLTOOLONG is for one over-long AUTHENTICATE line; a payload that
            # grows past any sensible size simply fails.
            _fail(session, "payload too long")
            return None
        if len(argument) == _CHUNK:
            return None  # more chunks follow
    encoded, attempt.received = attempt.received, b""
    try:
        payload = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        _fail(session, "malformed base64")
        return None
    if attempt.mechanism == "PLAIN":
        session.sasl = None
        return _plain(session, accounts, payload)
    if attempt.mechanism == "EXTERNAL":
        session.sasl = None
        return _external(session, accounts, payload)
    return _scram(session, accounts, attempt, payload)


def _without_device(session: IrcClient, name: str) -> str | None:
    """An account's name as a client gave it, ``account@device`` naming the device
    too (its read position is its own, see doors/irc/attach.py): the device is kept on
    the session. None, the failure said, when the device's name is malformed."""
    account, at, device = name.partition("@")
    if not at:
        return name
    if _DEVICE.fullmatch(device) is None:
        _fail(
            session,
            "a device's name (after @) is 1 to 32 letters, digits, '.', '-' or '_'",
        )
        return None
    session.device = device
    return account


async def _plain(session: IrcClient, accounts: Accounts, payload: bytes) -> None:
    try:
        authzid, authcid, password = payload.decode("utf-8").split("\0")
    except (UnicodeDecodeError, ValueError):
        _fail(session, "malformed PLAIN message")
        return
    named = _without_device(session, authcid)
    if named is None:
        return
    if authzid:
        authzid = authzid.partition("@")[0]
    authcid = named
    if authzid and authzid != authcid:
        _fail(session, "cannot act for another")
        return
    try:
        account = await accounts.authenticate(authcid, password, session.host)
    except AccountError as error:
        _fail(session, str(error))
        return
    if not session.closed:
        await _succeed(session, account)


async def _external(session: IrcClient, accounts: Accounts, payload: bytes) -> None:
    fingerprint = session.peer.certfp
    if fingerprint is None:
        _fail(session, "no TLS client certificate was presented")
        return
    try:
        authzid = payload.decode("utf-8")
        named = _without_device(session, authzid)
        if named is None:
            return
        authzid = named
        account = await accounts.by_certificate(fingerprint)
    except UnicodeDecodeError:
        _fail(session, "malformed EXTERNAL message")
        return
    except AccountError as error:
        _fail(session, str(error))
        return
    if account is None:
        # Not counted as a failed login: no password is guessed, and a certificate the
        # server's CA did not sign never gets this far.
        _fail(session, "the certificate belongs to no account")
        return
    try:
        accounts.begin_login(account.name, session.host)
    except AccountError as error:
        _fail(session, str(error))
        return
    if authzid and accounts.fold(authzid) != account.key:
        accounts.login_failed(account.name, session.host)
        _fail(session, "cannot act for another")
        return
    accounts.login_succeeded(account.name, session.host)
    if not session.closed:
        await _succeed(session, account)


async def _scram(
    session: IrcClient, accounts: Accounts, attempt: SaslAttempt, payload: bytes
) -> None:
    if attempt.exchange is None:
        attempt.exchange = scram.Exchange()
    exchange = attempt.exchange
    try:
        text = payload.decode("utf-8")
        if attempt.step == 0:
            named = _without_device(session, exchange.receive_first(text))
            if named is None:
                return
            name = named
            authzid = exchange.authzid.partition("@")[0]
            if authzid and accounts.fold(authzid) != accounts.fold(name):
                _fail(session, "cannot act for another")
                return
            # Counted as failed until the proof checks out at client-final.
            accounts.begin_login(name, session.host)
            attempt.account, verifier = await accounts.verifier(name)
            attempt.step = 1
            if not session.closed and session.sasl is attempt:
                _challenge(session, exchange.server_first(verifier).encode())
        elif attempt.step == 1:
            final = exchange.receive_final(text)
            if attempt.account is None:
                # A decoy verifier accepts no proof, so this only guards a bug.
                raise scram.ScramError("invalid credentials")
            # The name as begin_login counted it: without the device (probe 24: a
            # login as account@device was counted failed even when it succeeded).
            accounts.login_succeeded(exchange.name.partition("@")[0], session.host)
            attempt.step = 2
            _challenge(session, final.encode())
        elif text:
            raise scram.ScramError("unexpected message after the server's signature")
        elif attempt.account is not None:
            await _succeed(session, attempt.account)
    except UnicodeDecodeError:
        _fail(session, "malformed SCRAM message")
    except (scram.ScramError, AccountError) as error:
        if attempt.step == 1 and isinstance(error, scram.ScramError):
            # A proof refused: a wrong password.
            accounts.login_failed(exchange.name.partition("@")[0], session.host)
        _fail(session, str(error))


async def _succeed(session: IrcClient, account: Account) -> None:
    session.sasl = None
    await logged_in(session, account)
    session.numeric(n.RPL_SASLSUCCESS, "SASL authentication successful")


COMMANDS: tuple[Command, ...] = (
    ConnectionCommand("AUTHENTICATE", unless_banned(authenticate), min_params=1),
)
