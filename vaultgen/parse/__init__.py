"""Reading digest posts: text in, entries and diagnostics out."""
