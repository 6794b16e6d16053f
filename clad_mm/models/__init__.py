"""Models of clad_mm (classifiers, heads, memories) live here."""
