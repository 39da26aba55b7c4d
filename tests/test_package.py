"""The package's public surface (reference §2) and its version."""

import importlib
import os

import rain
import rain.client
import rain.common
from rain.client.rpc.common import DataObjectState, TaskState

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_client_exports():
    for name in ["Client", "Session", "Task", "DataObject", "Program", "Input", "InputDir",
                 "InputBase", "Output", "OutputDir", "OutputBase", "blob", "pickled",
                 "directory", "RainException", "RainWarning", "TaskException",
                 "SessionException", "remote", "Remote"]:
        assert hasattr(rain.client, name), name
    for module in ["tasks", "session", "data", "task", "input", "output", "program",
                   "client", "rpc", "pycode"]:
        assert importlib.import_module("rain.client." + module)
        assert hasattr(rain.client, module), module


def test_common_exports():
    for name in ["LabeledList", "DataInstance", "ID", "DataType", "RainException",
                 "RainWarning", "SessionException", "TaskException"]:
        assert hasattr(rain.common, name), name
    for module in ["attributes", "content_type", "data_instance", "labeled_list", "ids"]:
        assert hasattr(rain.common, module), module
    for function in ["encode_value", "decode_value", "merge_content_types"]:
        assert hasattr(rain.common.content_type, function)


def test_executor_package():
    import importlib.util
    import rain.executor
    assert importlib.util.find_spec("rain.executor.__main__")  # python3 -m rain.executor
    assert callable(rain.executor.serve) and rain.executor.Context


def test_exceptions_hierarchy():
    from rain.common import RainException, RainWarning, SessionException, TaskException
    assert issubclass(SessionException, RainException) and issubclass(RainException, Exception)
    assert issubclass(TaskException, SessionException)
    assert issubclass(RainWarning, Warning) and not issubclass(RainWarning, RainException)
    assert rain.client.TaskException is TaskException


def test_states():
    assert [s.name for s in TaskState] == ["notAssigned", "ready", "assigned", "running",
                                          "finished", "failed"]
    assert [s.name for s in DataObjectState] == ["unfinished", "finished", "removed"]
    assert TaskState("finished") is TaskState.finished


def test_id_is_a_namedtuple():
    from rain.common import ID
    i = ID(1, 10)
    assert i == (1, 10) and i.session_id == 1 and i.id == 10
    assert ID(session_id=2, id=3)._fields == ("session_id", "id")


def test_version_matches_repository():
    with open(os.path.join(REPO, "VERSION")) as f:
        assert rain.__version__ == f.read().strip()

