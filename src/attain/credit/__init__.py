"""Crediting: which sales count toward whose target, when and for how much (issue 9)."""
