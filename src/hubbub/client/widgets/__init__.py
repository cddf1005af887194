"""The client's widgets: buffer list, message view, member list, bars, input and screens."""
