"""One DDL statement of a plan, with how it has to run."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Statement:
    sql: str
    #: False for statements a backend refuses inside a transaction
    #: (PostgreSQL's ``CREATE INDEX CONCURRENTLY``).
    transactional: bool = True
    #: run instead when the backend refuses ``sql`` as an online change
    #: (MySQL/MariaDB ``ALGORITHM=INPLACE, LOCK=NONE`` on a table that cannot do it).
    fallback: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> Statement:
        return cls(data["sql"], bool(data.get("transactional", True)), data.get("fallback"))


def plain(statements) -> list[Statement]:
    return [Statement(sql) for sql in statements]
