"""Attain: set, split, act on, track and reward sales targets."""

__version__ = "0.1.0"
