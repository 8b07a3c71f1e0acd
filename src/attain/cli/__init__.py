"""The `attain` command line (Typer + Rich)."""
