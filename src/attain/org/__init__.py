"""The organisation tree: company → region → team → rep, any depth."""
