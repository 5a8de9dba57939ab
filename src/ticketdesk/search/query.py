"""The search query language, parsed once and written out for each engine (pure functions).

export report        both words (stems: `reporting` finds `report`)
"export job"         the words side by side, in this order
repo*                a word starting with `repo`
-invoice             no ticket with this word
TKT-20261129-0042    the ticket number, or part of it (`TKT-202611`)
20261129-0042, 0042  a number: part of the ticket number, or a word of the text
"""

import re
from dataclasses import dataclass

from ticketdesk.errors import Invalid

# A quoted phrase (the closing quote may be missing) or a run of non-space characters.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')
_NUMBER = re.compile(r"TKT-[0-9-]*", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9][0-9-]*[0-9]")
_WORD_CHAR = re.compile(r"[^\W_]")
# Quotes and backslashes are the only characters with a meaning inside a quoted term of
# either engine; within a term they are only separators anyway.
_QUOTING = str.maketrans({"'": " ", '"': " ", "\\": " "})
MAX_TERMS = 16


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool = False
    prefix: bool = False
    negated: bool = False


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...] = ()
    # Must occur in the ticket number.
    numbers: tuple[str, ...] = ()
    # Digits (and dashes): in the ticket number, or a word of the text.
    digits: tuple[str, ...] = ()

    @property
    def wanted(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if not term.negated)


def parse(q: str) -> SearchQuery:
    """Reads the query; a query with nothing to look for is a 422 naming `q`."""
    terms: list[Term] = []
    numbers: list[str] = []
    digits: list[str] = []
    for match in _TOKEN.finditer(q):
        negated = bool(match.group(1) or match.group(3))
        if match.group(2) is not None:
            term = Term(_clean(match.group(2)), phrase=True, negated=negated)
        else:
            word = match.group(4)
            if not negated and _NUMBER.fullmatch(word):
                numbers.append(word.upper())
                continue
            if not negated and _DIGITS.fullmatch(word) and sum(c.isdigit() for c in word) >= 3:
                digits.append(word)
                continue
            prefix = word.endswith("*")
            term = Term(_clean(word.rstrip("*")), prefix=prefix, negated=negated)
        if _WORD_CHAR.search(term.text):
            terms.append(term)
    query = SearchQuery(tuple(terms), tuple(numbers), tuple(digits))
    if not (query.wanted or query.numbers or query.digits):
        raise Invalid(
            "the search needs at least one word or number to look for", field="q", location="query"
        )
    if len(terms) + len(numbers) + len(digits) > MAX_TERMS:
        raise Invalid(f"at most {MAX_TERMS} search terms", field="q", location="query")
    return query


def _clean(text: str) -> str:
    return " ".join(text.translate(_QUOTING).split())


def tsquery(terms: tuple[Term, ...]) -> str:
    """PostgreSQL `to_tsquery` input: each term quoted, so the dictionary still stems it and
    nothing in it is read as an operator; a quoted run of words becomes a phrase."""
    parts = []
    for term in terms:
        part = f"'{term.text}'" + (":*" if term.prefix else "")
        parts.append(f"!{part}" if term.negated else part)
    return " & ".join(parts)


def fts5_query(terms: tuple[Term, ...]) -> str:
    """SQLite FTS5 MATCH input: each term a quoted string (stemmed by the tokenizer)."""
    wanted = [_fts5_string(term) for term in terms if not term.negated]
    unwanted = [_fts5_string(term) for term in terms if term.negated]
    query = " AND ".join(wanted)
    if unwanted:
        query = f"({query}) NOT ({' OR '.join(unwanted)})"
    return query


def _fts5_string(term: Term) -> str:
    return f'"{term.text}"' + ("*" if term.prefix else "")
