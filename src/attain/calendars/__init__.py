"""The company calendar: which official calendar the company follows, plus its own holidays and make-up workdays."""
