"""The network: every request embedarc makes, guarded, limited and recorded, and redirect chains.

A namespace only: each module has its own layer (tests/test_layers.py).
"""
