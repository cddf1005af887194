"""The IRC door: RFC 1459/2812 and the modern IRC client protocol."""
