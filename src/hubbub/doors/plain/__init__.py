"""The plain-text door: the seed's chat dialect (a name prompt, then ``name: text`` lines)."""
