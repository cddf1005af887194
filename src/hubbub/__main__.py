"""Entry point for ``python -m hubbub``."""

from __future__ import annotations

from hubbub.cli import main

raise SystemExit(main())
