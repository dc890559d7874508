"""Rendering notes: their text, frontmatter and names."""
