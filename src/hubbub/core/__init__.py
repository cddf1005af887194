"""The chat itself: users, channels, modes and their rules, with no I/O and no wire format."""
