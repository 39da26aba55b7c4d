"""Specs (what the user asked for) and infos (what happened) of tasks and data objects.

They travel as JSON objects with empty values omitted (see common/attributes.ts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import Self


from .data_type import DataType
from .ids import ID, id_from_wire

# A JSON object as json.loads gives it.
JsonObject = dict[str, Any]


def _put(out: JsonObject, key: str, value: Any) -> None:
    """Sets ``out[key]`` unless the value is empty (None, "", [], {})."""
    if value is not None and value != "" and value != [] and value != {}:
        out[key] = value


class _Attributes:
    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{n}={getattr(self, n)!r}" for n in self.__slots__ if getattr(self, n)
        )
        return f"{type(self).__name__}({fields})"


class _Info(_Attributes):
    """Infos are flat: every slot travels under its own name, empty ones omitted; missing ones
    take the constructor's defaults."""

    __slots__ = ()

    def to_json(self) -> JsonObject:
        out: JsonObject = {}
        for name in self.__slots__:
            _put(out, name, getattr(self, name))
        return out

    @classmethod
    def from_json(cls, data: JsonObject) -> Self:
        return cls(**{name: data[name] for name in cls.__slots__ if name in data})


class TaskSpecInput(_Attributes):
    """One input of a task: the object id and an optional label."""

    __slots__ = ("id", "label")

    def __init__(self, id: ID, label: str | None = None) -> None:
        self.id = id
        self.label = label

    def to_json(self) -> JsonObject:
        out: JsonObject = {"id": self.id}
        _put(out, "label", self.label)
        return out

    @classmethod
    def from_json(cls, data: JsonObject) -> TaskSpecInput:
        return cls(id_from_wire(data["id"]), data.get("label"))


class TaskSpec(_Attributes):
    __slots__ = ("id", "task_type", "config", "inputs", "outputs", "resources", "name", "user",
                 "policy")

    def __init__(self, id: ID | None = None, task_type: str | None = None, config: Any = None,
                 inputs: list[TaskSpecInput] | None = None, outputs: list[ID] | None = None,
                 resources: JsonObject | None = None, name: str | None = None,
                 user: JsonObject | None = None, policy: JsonObject | None = None) -> None:
        self.id = id
        self.task_type = task_type
        # retries and limits (docs/policies.md); None: Rain 0.4 (one attempt, no limit)
        self.policy = policy
        self.config = config
        self.inputs = inputs if inputs is not None else []
        self.outputs = outputs if outputs is not None else []
        self.resources = resources if resources is not None else {"cpus": 1}
        self.name = name
        self.user = user if user is not None else {}

    def to_json(self) -> JsonObject:
        out: JsonObject = {
            "id": self.id,
            "task_type": self.task_type,
            "inputs": [i.to_json() for i in self.inputs],
            "outputs": self.outputs,
            "resources": self.resources,
        }
        if self.config is not None:
            out["config"] = self.config
        _put(out, "name", self.name)
        _put(out, "user", self.user)
        _put(out, "policy", self.policy)
        return out

    @classmethod
    def from_json(cls, data: JsonObject) -> TaskSpec:
        return cls(
            id=id_from_wire(data["id"]),
            task_type=data["task_type"],
            config=data.get("config"),
            inputs=[TaskSpecInput.from_json(i) for i in data.get("inputs", ())],
            outputs=[id_from_wire(o) for o in data.get("outputs", ())],
            resources=data.get("resources"),
            name=data.get("name"),
            user=data.get("user"),
            policy=data.get("policy"),
        )


class TaskInfo(_Info):
    """``error`` non-empty means failed; ``start_time`` is RFC 3339; ``duration`` in seconds;
    ``peak_memory``: peak resident bytes of the task's processes (tasks over 0.1 s)."""

    __slots__ = ("error", "start_time", "duration", "governor", "debug", "user", "peak_memory",
                 "exit_code", "exception_types", "time_limit_exceeded", "attempts")

    def __init__(self, error: str = "", start_time: str | None = None,
                 duration: float | None = None, governor: Any = None, debug: str = "",
                 user: JsonObject | None = None, peak_memory: int | None = None,
                 exit_code: int | None = None, exception_types: list[str] | None = None,
                 time_limit_exceeded: bool | None = None,
                 attempts: list[JsonObject] | None = None) -> None:
        self.error = error
        self.start_time = start_time
        self.duration = duration
        self.governor = governor
        self.debug = debug
        self.user = user if user is not None else {}
        self.peak_memory = peak_memory
        # Why a failed attempt ended (docs/policies.md); attempts: every run when there were
        # several, each {governor, start_time, duration, error}.
        self.exit_code = exit_code
        self.exception_types = exception_types
        self.time_limit_exceeded = time_limit_exceeded
        self.attempts = attempts



class ObjectSpec(_Attributes):
    __slots__ = ("id", "label", "content_type", "data_type", "user")

    def __init__(self, id: ID | None = None, label: str | None = None,
                 content_type: str | None = None, data_type: DataType | str = DataType.BLOB,
                 user: JsonObject | None = None) -> None:
        self.id = id
        self.label = label
        self.content_type = content_type
        self.data_type = DataType(data_type)
        self.user = user if user is not None else {}

    def to_json(self) -> JsonObject:
        out: JsonObject = {"id": self.id, "data_type": self.data_type.value}
        _put(out, "label", self.label)
        _put(out, "content_type", self.content_type)
        _put(out, "user", self.user)
        return out

    @classmethod
    def from_json(cls, data: JsonObject) -> ObjectSpec:
        return cls(
            id=id_from_wire(data["id"]),
            label=data.get("label"),
            content_type=data.get("content_type"),
            data_type=DataType.from_str(data.get("data_type", "blob")),
            user=data.get("user"),
        )


class ObjectInfo(_Info):
    """``size`` in bytes (approximate for directories); ``content_type`` as set at run time."""

    __slots__ = ("error", "size", "content_type", "debug", "user")

    def __init__(self, error: str = "", size: int | None = None, content_type: str | None = None,
                 debug: str = "", user: JsonObject | None = None) -> None:
        self.error = error
        self.size = size
        self.content_type = content_type
        self.debug = debug
        self.user = user if user is not None else {}
