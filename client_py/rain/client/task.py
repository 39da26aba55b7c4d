"""Tasks of a session's graph."""

# The modules of rain.client share their objects' underscore attributes.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Union

from ..common.attributes import TaskInfo, TaskSpec, TaskSpecInput
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
        check_cpus(cpus)
        requested = make_resources(cpus, memory, gpus, resources)
        policy = make_policy(max_retries, retry_on, time_limit, crash_limit)
        self.session: Session = session
        self._site: Site | None = capture_site()
        self.inputs: LabeledList[DataObject] = self._make_inputs(inputs)
        if isinstance(outputs, int):
            outputs = [None] * outputs
        self._check_outputs(outputs)
        # Nothing is registered before the task is known to be valid; the task's id comes
        # before its outputs' ids.
        self.id: ID = session._new_id()
        self.outputs: LabeledList[DataObject] = self._make_outputs(outputs)
        self.spec = TaskSpec(
            id=self.id, task_type=task_type, config=config,
            inputs=[TaskSpecInput(obj.id, label)
                    for label, obj in zip(self.inputs.labels, self.inputs.data)],
            outputs=[obj.id for obj in self.outputs.data],
            resources=requested, name=name,
            user=dict(user_spec) if user_spec else {}, policy=policy)
        self.state: TaskState | None = None
        self.info: TaskInfo | None = None
        session._register_task(self)

    def _make_inputs(self, inputs: Iterable[TaskInput]) -> LabeledList[DataObject]:
        labels = inputs.labels if isinstance(inputs, LabeledList) else None
        result: LabeledList[DataObject] = LabeledList()
        for position, item in enumerate(inputs):
            label = labels[position] if labels is not None else None
            if isinstance(item, InputBase):
                if item.dataobj is None:
                    raise RainException(f"{item} has no data object")
                obj, label = item.dataobj, item.label if label is None else label
            else:
                obj = to_dataobj(item)
            if obj.session is not self.session:
                raise RainException(f"{obj} belongs to another session than the task")
            result.append(obj, label)
        return result

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
                label = item.spec.label
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

    def _make_outputs(self, outputs: Iterable[OutputItem]) -> LabeledList[DataObject]:
        result: LabeledList[DataObject] = LabeledList()
        for item in outputs:
            if isinstance(item, DataObject):
                obj = item
            elif isinstance(item, OutputBase):
                obj = item.create_data_object(self.session)
            else:
                obj = DataObject(item, session=self.session)
            obj._producer = self
            result.append(obj, obj.spec.label)
        return result

    @property
    def task_type(self) -> str:
        return self.spec.task_type or ""

    @property
    def name(self) -> str | None:
        """The task's name (``name=`` at creation), or None."""
        return self.spec.name

    @property
    def _session(self) -> Session:
        # The attribute's name in Rain 0.4; scripts use it.
        return self.session

    @property
    def output(self) -> DataObject:
        """The only output; RainException if the task has not exactly one."""
        if len(self.outputs) != 1:
            raise RainException(f"{self} has {len(self.outputs)} outputs, not exactly one")
        return self.outputs[0]

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
        name = f" {self.spec.name!r}" if self.spec.name else ""
        return f"<Task {format_id(self.id)} {self.spec.task_type}{name}>"
