"""The YAML forms engine: load, validate, compile and evaluate form definitions."""
