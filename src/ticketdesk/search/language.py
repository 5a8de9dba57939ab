"""TICKETDESK_SEARCH_LANGUAGE: a PostgreSQL text-search configuration, and its FTS5 tokenizer."""

# PostgreSQL's built-in configurations (`simple` does no stemming).
PG_LANGUAGES = frozenset(
    [
        "simple",
        "arabic",
        "armenian",
        "basque",
        "catalan",
        "danish",
        "dutch",
        "english",
        "finnish",
        "french",
        "german",
        "greek",
        "hindi",
        "hungarian",
        "indonesian",
        "irish",
        "italian",
        "lithuanian",
        "nepali",
        "norwegian",
        "portuguese",
        "romanian",
        "russian",
        "serbian",
        "spanish",
        "swedish",
        "tamil",
        "turkish",
        "yiddish",
    ]
)


def fts5_tokenizer(language: str) -> str:
    """FTS5 has a stemmer for English only (porter); other languages match whole words."""
    stemmer = "porter " if language == "english" else ""
    return f"{stemmer}unicode61 remove_diacritics 2"
