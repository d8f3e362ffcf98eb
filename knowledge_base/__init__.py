"""Markdown knowledge base: rendering, Chinese segmentation, article files."""
