"""Parts of Rain shared by the client and the executor."""

from . import attributes, content_type, data_instance, errors, ids, labeled_list  # noqa: F401
from .data_instance import DataInstance
from .data_type import DataType
from .errors import RainException, RainWarning, SessionException, TaskException
from .ids import ID
from .labeled_list import LabeledList

__all__ = [
    "LabeledList", "DataInstance", "ID", "DataType", "RainException", "RainWarning",
    "SessionException", "TaskException", "attributes", "content_type", "data_instance",
    "labeled_list", "ids",
]
