"""LDH training pipeline (Python side of the ``ldh-input-v1`` contract).

Run modules from the repository root with Debian's system Python, e.g.
``/usr/bin/python3 -m training.smoke``.
"""
