"""Benchmarks: each prints figures and ratios measured side by side in one run.

They never pass or fail; run them with ``make bench``.
"""
