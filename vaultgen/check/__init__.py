"""Reading any vault: its notes and the link graph they make."""
