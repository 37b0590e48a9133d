"""The job: archiving articles (the pipeline), sources polled on a schedule, retries, checks.

A namespace only: each module has its own layer (tests/test_layers.py).
"""
