"""How the chat spans nodes: the bus and registry ports' implementations."""
