"""Accounts: registering, logging in (passwords, SCRAM, certificates), throttling failed
logins and owning nicks. A ring between the core and the doors; stores implement its
ports (:mod:`hubbub.accounts.ports`)."""
