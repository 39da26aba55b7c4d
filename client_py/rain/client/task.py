"""Tasks of a session's graph."""

from ..common.attributes import TaskSpec, TaskSpecInput
from ..common.errors import RainException
from ..common.ids import format_id
from ..common.labeled_list import LabeledList
from .data import DataObject, to_dataobj
from .input import InputBase
from .output import OutputBase
from .rpc.common import TaskState
from .session import get_active_session
from .site import capture_site


class Task:
    """A unit of work: ``task_type`` "<executor>/<method>" applied to input objects, producing
    output objects. Subclasses set ``TASK_TYPE``.

    ``inputs``: data objects, single-output tasks or ``Input``s (a LabeledList gives labels).
    ``outputs``: a number of blobs, or labels / ``Output``s / unsubmitted ``DataObject``s.
    ``state`` is None until submitted; ``info`` None until ``update()``.
    """

    TASK_TYPE = None

    def __init__(self, inputs=(), outputs=0, *, config=None, session=None, task_type=None,
                 cpus=1, name=None, user_spec=None):
        if session is None:
            session = get_active_session()
        task_type = task_type if task_type is not None else self.TASK_TYPE
        if not task_type:
            raise RainException("{} has no task type (set TASK_TYPE or pass task_type=)"
                                .format(type(self).__name__))
        if not isinstance(cpus, int) or isinstance(cpus, bool) or cpus < 1:
            raise RainException("cpus must be a positive integer, not {!r}".format(cpus))
        self.session = session
        self._site = capture_site()
        self.inputs = self._make_inputs(inputs)
        if isinstance(outputs, int):
            outputs = [None] * outputs
        self._check_outputs(outputs)
        # Nothing is registered before the task is known to be valid; the task's id comes
        # before its outputs' ids.
        self.id = session._new_id()
        self.outputs = self._make_outputs(outputs)
        self.spec = TaskSpec(
            id=self.id, task_type=task_type, config=config,
            inputs=[TaskSpecInput(obj.id, label)
                    for label, obj in zip(self.inputs.labels, self.inputs.data)],
            outputs=[obj.id for obj in self.outputs.data],
            resources={"cpus": cpus}, name=name,
            user=dict(user_spec) if user_spec else {})
        self.state = None
        self.info = None
        session._register_task(self)

    def _make_inputs(self, inputs):
        labels = inputs.labels if isinstance(inputs, LabeledList) else None
        result = LabeledList()
        for position, item in enumerate(inputs):
            label = labels[position] if labels is not None else None
            if isinstance(item, InputBase):
                if item.dataobj is None:
                    raise RainException("{} has no data object".format(item))
                obj, label = item.dataobj, item.label if label is None else label
            else:
                obj = to_dataobj(item)
            if obj.session is not self.session:
                raise RainException("{} belongs to another session than the task".format(obj))
            result.append(obj, label)
        return result

    def _check_outputs(self, outputs):
        labels = set()
        for item in outputs:
            if isinstance(item, DataObject):
                if item.session is not self.session:
                    raise RainException("{} belongs to another session".format(item))
                if item.state is not None or item.data is not None or item._producer is not None:
                    raise RainException(
                        "{} cannot be an output: it is a constant, submitted or already "
                        "produced by another task".format(item))
                label = item.spec.label
            elif isinstance(item, OutputBase):
                label = item.label
            elif item is None or isinstance(item, str):
                label = item
            else:
                raise TypeError("an output must be a label, an Output or a DataObject, not {!r}"
                                .format(item))
            if label is not None and label in labels:
                raise KeyError("duplicate output label {!r}".format(label))
            labels.add(label)

    def _make_outputs(self, outputs):
        result = LabeledList()
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
    def task_type(self):
        return self.spec.task_type

    @property
    def name(self):
        """The task's name (``name=`` at creation), or None."""
        return self.spec.name

    @property
    def _session(self):
        # The attribute's name in Rain 0.4; scripts use it.
        return self.session

    @property
    def output(self):
        """The only output; RainException if the task has not exactly one."""
        if len(self.outputs) != 1:
            raise RainException("{} has {} outputs, not exactly one".format(
                self, len(self.outputs)))
        return self.outputs[0]

    def keep_outputs(self):
        for obj in self.outputs:
            obj.keep()

    def unkeep_outputs(self):
        self.session.unkeep(list(self.outputs))

    def fetch_outputs(self):
        """The data of every output (each must be kept), in output order."""
        return [obj.fetch() for obj in self.outputs]

    def wait(self):
        self.session.wait((self,))

    def update(self):
        self.session.update((self,))

    def _mark_finished(self):
        self.state = TaskState.finished

    def __repr__(self):
        return "<Task {} {}{}>".format(
            format_id(self.id), self.spec.task_type,
            " {!r}".format(self.spec.name) if self.spec.name else "")
