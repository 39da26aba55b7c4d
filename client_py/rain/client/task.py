"""Tasks of a session's graph."""

# The modules of rain.client share their objects' underscore attributes.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Union

from ..common.attributes import JsonObject, TaskInfo, TaskSpec, TaskSpecInput
from ..common.data_instance import DataInstance
from ..common.errors import RainException
from ..common.ids import ID, format_id
from ..common.labeled_list import LabeledList
from ..common.resources import make_resources
from .active import get_active_session
from .data import DataLike, DataObject, OutputsOwner, to_dataobj
from .input import InputBase
from .logs import TaskLogs, task_logs
from .output import OutputBase
from .policy import RetryOn, make_policy
from .rpc.common import TaskState
from .site import Site, capture_site

if TYPE_CHECKING:
    from .session import Session

# An input of a task: a data object, a task with one output, or an Input bound to an object.
TaskInput = Union[DataLike, InputBase]
# An output declaration: a label (None: unlabeled blob), an Output, or an unsubmitted object.
OutputItem = Union[str, None, OutputBase, DataObject]


# The resources of a task that asks for one cpu only (shared: never changed in place).
_ONE_CPU: dict[str, Any] = {"cpus": 1}


def check_cpus(cpus: object) -> None:
    """RainException unless ``cpus`` is a positive int (bool is not a number of cpus)."""
    if not isinstance(cpus, int) or isinstance(cpus, bool) or cpus < 1:
        raise RainException(f"cpus must be a positive integer, not {cpus!r}")


class Task(OutputsOwner):
    """A unit of work: ``task_type`` "<executor>/<method>" applied to input objects, producing
    output objects. Subclasses set ``TASK_TYPE``.

    Resources (docs/resources.md): ``cpus``, ``memory`` (bytes or ``"4GiB"``), ``gpus`` (a
    whole number, or a fraction ≤ 1 sharing one device) and ``resources`` (custom amounts,
    e.g. ``{"licence": 1}``); they go to ``spec.resources``.

    Policies (docs/policies.md): ``max_retries`` (runs again after its own failure),
    ``retry_on`` (only these exit codes / exception classes / "time_limit"), ``time_limit``
    (seconds per attempt), ``crash_limit`` (governor losses survived); in ``spec.policy``.

    ``inputs``: data objects, single-output tasks or ``Input``s (a LabeledList gives labels).
    ``outputs``: a number of blobs, or labels / ``Output``s / unsubmitted ``DataObject``s.
    ``state`` is None until submitted; ``info`` None until ``update()``.
    """

    TASK_TYPE: ClassVar[str | None] = None

    # Slots, and spec / inputs / outputs lists made only when asked for: building a task of a
    # big graph costs a few microseconds (docs/architecture.md, "Where the time goes").
    __slots__ = ("session", "id", "state", "info", "_site", "_task_type", "_config", "_in",
                 "_in_labels", "_out", "_resources", "_name", "_user", "_policy", "_spec",
                 "_inputs", "_outputs", "__weakref__",
                 # Attributes of the user's own (Rain 0.4 scripts set them): the dict is made
                 # only for the tasks that get one.
                 "__dict__")

    def __init__(self, inputs: Iterable[TaskInput] = (),
                 outputs: int | Iterable[OutputItem] = 0, *, config: Any = None,
                 session: Session | None = None, task_type: str | None = None, cpus: int = 1,
                 name: str | None = None, user_spec: Mapping[str, Any] | None = None,
                 memory: int | str | None = None, gpus: float | None = None,
                 resources: Mapping[str, float] | None = None,
                 max_retries: int | None = None,
                 retry_on: RetryOn | Iterable[RetryOn] | None = None,
                 time_limit: float | None = None, crash_limit: int | None = None) -> None:
        if session is None:
            session = get_active_session()
        task_type = task_type if task_type is not None else self.TASK_TYPE
        if not task_type:
            raise RainException(
                f"{type(self).__name__} has no task type (set TASK_TYPE or pass task_type=)")
        if cpus == 1 and type(cpus) is int and memory is None and gpus is None \
                and resources is None:
            requested = _ONE_CPU
        else:
            check_cpus(cpus)
            requested = make_resources(cpus, memory, gpus, resources)
        policy = None
        if max_retries is not None or retry_on is not None or time_limit is not None \
                or crash_limit is not None:
            policy = make_policy(max_retries, retry_on, time_limit, crash_limit)
        self.session: Session = session
        self._site: Site | None = capture_site()
        self._make_inputs(inputs)
        if isinstance(outputs, int):
            self.id: ID = session._new_id()
            if outputs == 1:
                output = DataObject(None, session)
                output._producer = self
                self._out: list[DataObject] = [output]
            else:
                self._out = [DataObject(None, session) for _ in range(outputs)]
                for obj in self._out:
                    obj._producer = self
        else:
            outputs = list(outputs)
            self._check_outputs(outputs)
            # Nothing is registered before the task is known to be valid; the task's id comes
            # before its outputs' ids.
            self.id = session._new_id()
            self._out = self._make_outputs(outputs)
        self._task_type: str = task_type
        self._config: Any = config
        self._resources: dict[str, Any] = requested
        self._name: str | None = name
        self._user: dict[str, Any] | None = dict(user_spec) if user_spec else None
        self._policy: JsonObject | None = policy
        self._spec: TaskSpec | None = None
        self._outputs: LabeledList[DataObject] | None = None
        self.state: TaskState | None = None
        self.info: TaskInfo | None = None
        session._register_task(self)

    def _make_inputs(self, inputs: Iterable[TaskInput]) -> None:
        """Sets ``_in`` (the input objects), ``_in_labels`` (None: no input has a label) and
        ``_inputs``."""
        session = self.session
        objects: list[DataObject] = []
        labels: list[Any] | None = None
        # (isinstance against the LabeledList ABC is slow: lists and tuples skip it.)
        kind = type(inputs)
        given = inputs.labels if kind is not list and kind is not tuple \
            and isinstance(inputs, LabeledList) else None
        for position, item in enumerate(inputs):
            label = given[position] if given is not None else None
            if type(item) is DataObject:
                obj = item
            elif isinstance(item, InputBase):
                if item.dataobj is None:
                    raise RainException(f"{item} has no data object")
                obj, label = item.dataobj, item.label if label is None else label
            else:
                obj = to_dataobj(item)
            if obj.session is not session:
                raise RainException(f"{obj} belongs to another session than the task")
            if label is not None and labels is None:
                labels = [None for _ in range(position)]
            if labels is not None:
                labels.append(label)
            objects.append(obj)
        # Labelled inputs: the LabeledList is made now, for its checks (unique, hashable).
        self._inputs = LabeledList(objects, labels) if labels is not None else None
        self._in: list[DataObject] = objects
        self._in_labels: list[Any] | None = labels

    def _check_outputs(self, outputs: Iterable[object]) -> None:
        labels: set[str | None] = set()
        for item in outputs:
            label: str | None
            if isinstance(item, DataObject):
                if item.session is not self.session:
                    raise RainException(f"{item} belongs to another session")
                if item.state is not None or item.data is not None or item._producer is not None:
                    raise RainException(
                        f"{item} cannot be an output: it is a constant, submitted or already "
                        "produced by another task")
                label = item.label
            elif isinstance(item, OutputBase):
                label = item.label
            elif item is None or isinstance(item, str):
                label = item
            else:
                raise TypeError(
                    f"an output must be a label, an Output or a DataObject, not {item!r}")
            if label is not None and label in labels:
                raise KeyError(f"duplicate output label {label!r}")
            labels.add(label)

    def _make_outputs(self, outputs: Iterable[OutputItem]) -> list[DataObject]:
        result: list[DataObject] = []
        for item in outputs:
            if isinstance(item, DataObject):
                obj = item
            elif isinstance(item, OutputBase):
                obj = item.create_data_object(self.session)
            else:
                obj = DataObject(item, session=self.session)
            obj._producer = self
            result.append(obj)
        return result

    @property
    def spec(self) -> TaskSpec:
        """The task's TaskSpec, made when first asked for; from then on it is what is
        submitted (so that changes to it, e.g. ``spec.user[...] = ...``, are sent)."""
        spec = self._spec
        if spec is None:
            labels = self._in_labels
            spec = self._spec = TaskSpec(
                id=self.id, task_type=self._task_type, config=self._config,
                inputs=[TaskSpecInput(obj.id, labels[i] if labels is not None else None)
                        for i, obj in enumerate(self._in)],
                outputs=[obj.id for obj in self._out],
                resources=copy.deepcopy(self._resources), name=self._name,
                user=self._user if self._user is not None else {}, policy=self._policy)
        return spec

    @property
    def inputs(self) -> LabeledList[DataObject]:
        """The input objects, labelled as given."""
        if self._inputs is None:
            self._inputs = LabeledList(self._in, self._in_labels)
        return self._inputs

    @property
    def outputs(self) -> LabeledList[DataObject]:
        """The output objects, labelled by their labels."""
        if self._outputs is None:
            self._outputs = LabeledList(self._out, [obj.label for obj in self._out])
        return self._outputs

    @property
    def task_type(self) -> str:
        return (self._task_type if self._spec is None else self._spec.task_type) or ""

    @property
    def name(self) -> str | None:
        """The task's name (``name=`` at creation), or None."""
        return self._name if self._spec is None else self._spec.name

    @property
    def _session(self) -> Session:
        # The attribute's name in Rain 0.4; scripts use it.
        return self.session

    @property
    def output(self) -> DataObject:
        """The only output; RainException if the task has not exactly one."""
        if len(self._out) != 1:
            raise RainException(f"{self} has {len(self._out)} outputs, not exactly one")
        return self._out[0]

    def keep_outputs(self) -> None:
        for obj in self.outputs:
            obj.keep()

    def unkeep_outputs(self) -> None:
        self.session.unkeep(list(self.outputs))

    def fetch_outputs(self) -> list[DataInstance]:
        """The data of every output (each must be kept), in output order."""
        return [obj.fetch() for obj in self.outputs]

    def wait(self) -> None:
        self.session.wait((self,))

    def update(self) -> None:
        self.session.update((self,))

    def logs(self) -> TaskLogs:
        """What the task printed (``.stdout``, ``.stderr``), capped: see ``rain.client.logs``."""
        return task_logs(self)

    def _mark_finished(self) -> None:
        self.state = TaskState.finished

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<Task {format_id(self.id)} {self.task_type}{name}>"
