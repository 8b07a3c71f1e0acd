"""Market inputs (size, growth, shares, competitor events, marketing spend), anchoring a target on them, and early warning."""
