"""Accuracy and speed benchmarks; run them all with ``python -m benchmarks``."""
