"""Bytes to values and back: line framing, IRC messages, numerics and names. No I/O."""
