"""Everything that differs between the languages PerfOrch supports: one package per language."""
