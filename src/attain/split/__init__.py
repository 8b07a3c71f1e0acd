"""Exact target splitting: the pure computation core lives in `calc` and friends."""
