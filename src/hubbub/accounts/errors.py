"""The accounts ring's refusals."""

from __future__ import annotations


class AccountError(Exception):
    """A refused account operation; ``code`` is the IRCv3 FAIL code that says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
