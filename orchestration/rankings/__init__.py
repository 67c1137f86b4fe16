"""Which model to ask: the ranking matrix, the profiles it comes from, the outcomes it learns from, the Router."""
