"""Upkeep of an archive: verifying, rebuilding, removing, listing and searching it.

A namespace only: each module has its own layer (tests/test_layers.py).
"""
