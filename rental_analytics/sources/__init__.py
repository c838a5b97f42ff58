"""Source tables: their specs, bookmarks and extraction."""
