"""Benchmarks that compare our code with a raw baseline side by side in one run (`make bench`, `python -m bench`).

The machine is noisy and shared, so results are ratios of paths measured interleaved in the same process, never
absolute times checked against a fixed number.
"""
