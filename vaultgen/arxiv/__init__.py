"""arXiv records for entries and cited papers: matching, the client, its cache."""
