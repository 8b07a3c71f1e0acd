"""The deterministic demo company."""
