"""Doors: one dialect each, as sans-I/O sessions, and the asyncio driver that carries them."""
