"""Developer sessions: ``nox -s tests lint typecheck bench``.

CI does not use nox (it runs ``.ci/run``, which runs the README's test command);
these sessions are the same checks in isolated environments.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
PYTHONS = ["3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, property, golden, adapters)."""
    session.install("-e", ".[all,test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check over everything."""
    session.install("ruff")
    paths = ["src", "tests", "benchmarks", "docs/fleet-simulation.ipynb", "noxfile.py"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the framework-free core."""
    session.install("-e", ".[all,dev]")
    session.run("mypy", "--strict", "src/modelplane_core")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks; numbers are printed, never asserted."""
    session.install("-e", ".[all]")
    session.run("python", "benchmarks/run_all.py", *session.posargs)
