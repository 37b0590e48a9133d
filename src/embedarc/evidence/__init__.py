"""Evidence others can check: exports (WARC, WACZ, bags), timestamps, perceptual hashes, C2PA.

A namespace only: each module has its own layer (tests/test_layers.py).
"""
