"""Developer sessions: tests, lint, typecheck, reference, bench. CI runs lint, typecheck
and reference itself (.ci/run: ``nox --no-venv`` in the venv the README's test command
made)."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "reference"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite; needs PostgreSQL running, or its binaries to start a private one."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


def _install(session: nox.Session, *args: str) -> None:
    # With --no-venv the session runs in the environment it is started from, as CI does.
    if session.venv_backend != "none":
        session.install(*args)


@nox.session
def lint(session: nox.Session) -> None:
    _install(session, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    _install(session, "-e", ".[test]")
    session.run("mypy")


# What the Python API reference documents: every package the distribution ships.
PACKAGES = (
    "taskflow_core",
    "taskflow_falcon",
    "taskflow_compose",
    "taskflow_postgres",
    "taskflow_sqlite",
    "taskflow_cli",
    "taskflow_client",
)


@nox.session
def reference(session: nox.Session) -> None:
    """The Python API reference, made from the docstrings by pdoc into build/reference/
    (open build/reference/index.html). Fails on any warning pdoc prints, so CI keeps it
    building cleanly."""
    _install(session, "-e", ".[test]")
    printed = session.run(
        "pdoc", "--docformat", "markdown", "-o", "build/reference", *PACKAGES, silent=True
    )
    warnings = [line for line in str(printed).splitlines() if "Warn" in line]
    if warnings:
        session.error("pdoc warned:\n" + "\n".join(warnings))


@nox.session
def bench(session: nox.Session) -> None:
    """The HTTP benchmark against PostgreSQL's own ceiling (see benchmarks/README.md)."""
    session.install("-e", ".[test,bench]")
    session.run("python", "-m", "benchmarks.run", *session.posargs)
    session.run("python", "-m", "benchmarks.plot")


@nox.session
def soak(session: nox.Session) -> None:
    """Worker memory over 10 minutes of mixed traffic, on the database `bench` seeded."""
    session.install("-e", ".[test,bench]")
    session.run("python", "-m", "benchmarks.soak", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """Schemathesis against the app with many more generated requests than the suite sends."""
    session.install("-e", ".[test]")
    session.run(
        "pytest",
        "tests/integration/test_openapi.py",
        env={"TASKFLOW_FUZZ_EXAMPLES": session.posargs[0] if session.posargs else "500"},
    )
