"""Keeping: the content-addressed store, article folders and their sidecars, the index.

A namespace only: each module has its own layer (tests/test_layers.py).
"""
