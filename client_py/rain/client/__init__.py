"""The Rain client: build task graphs in sessions and run them on a Rain server."""

from . import client, data, input, output, program, pycode, rpc, session, task, tasks  # noqa: F401
from ..common.errors import RainException, RainWarning, SessionException, TaskException
from .client import Client
from .data import DataObject, blob, directory, pickled
from .input import Input, InputBase, InputDir
from .logs import TaskLogs
from .output import Output, OutputBase, OutputDir
from .program import Program
from .pycode import Remote, remote
from .session import Session
from .task import Task

__all__ = [
    "Client", "Session", "Task", "DataObject", "Program", "Input", "InputDir", "InputBase",
    "Output", "OutputDir", "OutputBase", "blob", "pickled", "directory", "RainException",
    "RainWarning", "TaskException", "SessionException", "tasks", "session", "data", "task",
    "input", "output", "program", "client", "rpc", "remote", "Remote", "pycode", "TaskLogs",
]
