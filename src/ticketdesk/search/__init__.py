"""Full-text search on the database's own engine: PostgreSQL text search or SQLite FTS5."""
