"""Reading articles: text, HTML and feeds into an article and its links, without the network.

A namespace only: each module has its own layer (tests/test_layers.py).
"""
