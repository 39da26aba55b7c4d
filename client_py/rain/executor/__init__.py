"""The executor side of Rain: ``python3 -m rain.executor`` runs Python tasks (``@remote``) for a
governor; ``serve(methods)`` runs an executor of your own task functions.

See docs/executors.md for the protocol.
"""

from .context import Context
from .executor import Executor, TaskError, serve
from .pytask import run_remote

__all__ = ["Context", "Executor", "TaskError", "serve", "main"]


def main() -> None:
    """The ``py`` executor: serves Python tasks (task type ``py/``); with
    ``RAIN_EXECUTOR_FORK_SERVER=1``, the fork server that forks such executors (fork_server.py)."""
    import os

    from .fork_server import FORK_SERVER_ENV, serve_forks

    if os.environ.get(FORK_SERVER_ENV) == "1":
        serve_forks()
    else:
        serve({"": run_remote}, executor_type="py")
