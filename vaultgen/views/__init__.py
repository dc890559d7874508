"""Views of a vault's paper graph: canvas, web page, graph files, statistics."""
