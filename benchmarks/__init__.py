"""Benchmarks: a load generator for IRC servers and a runner that compares hubbub with peers."""
