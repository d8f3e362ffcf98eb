"""Optional in-repo plugins; each sub-package exports ``plugin`` and loads only when listed in WEIBAO_PLUGINS."""
