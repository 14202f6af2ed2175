"""Configuration to store: which URL gives which store, and clear refusals."""

import pytest

from taskflow_compose import store_from_url
from taskflow_postgres import PostgresStore


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/taskflow",
        "postgres://postgres@localhost/taskflow",
        "host=127.0.0.1 port=5432 dbname=taskflow user=postgres",
        "dbname=taskflow",
    ],
)
def test_postgres_urls_and_conninfo_strings_give_a_postgres_store(url: str) -> None:
    store = store_from_url(url)
    try:
        assert isinstance(store, PostgresStore)
    finally:
        store.close()


@pytest.mark.parametrize("url", ["mysql://x/y", "taskflow.db", "http://example/db"])
def test_unknown_urls_are_refused_with_the_accepted_forms(url: str) -> None:
    with pytest.raises(ValueError, match=r"postgresql://.*sqlite:///"):
        store_from_url(url)
