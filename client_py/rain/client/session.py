"""Sessions: the graph being built, its submits, waits and fetches, and the active-session stack.

Tasks and data objects are created in the active session: the top of the stack that ``with
session:`` and ``session.bind_only()`` push, or else the default session.
"""

# The modules of rain.client share their objects' underscore attributes.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import re
from collections.abc import Generator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Union

from ..common.attributes import JsonObject, ObjectInfo, TaskInfo, TaskSpec
from ..common.data_instance import DataInstance
from ..common.data_type import DataType
from ..common.errors import RainException, TaskException
from ..common.ids import FIRST_ID, ID, format_id, new_id
from .active import default_session, get_active_session, pop_session, push_session
from .active import set_default_session
from .data import DataLike, DataObject, to_dataobj
from .graph_gc import FREEZE_EVERY, GraphFreeze
from .progress import POLL_SECONDS, ProgressBar, progress_wanted
from .rpc.common import DataObjectState, TaskState
from .rpc.compact import COMPACT_SUBMIT_CONTENT_TYPE, encode_submit, optional_fields
from .site import format_site
from .task import Task

if TYPE_CHECKING:
    from .logs import OutputEcho
    from .client import Client

__all__ = ["Session", "get_active_session"]


# What wait(), update() and friends take: a task, a data object, or an iterable of them.
Items = Union[Task, DataObject, Iterable[Union[Task, DataObject]]]


def _as_list(items: Items) -> list[Task | DataObject]:
    """A single task or data object, or an iterable of them, as a list."""
    if isinstance(items, (Task, DataObject)):
        return [items]
    return list(items)


# Kinds of server errors that mean "this session is gone"; closing it again is then a no-op.
_GONE_KINDS = ("SessionClosed", "SessionFailed", "NotFound")


class Session:
    """A graph of tasks and objects on the server, built and submitted in steps.

    ``Session(None, session_id)`` is an offline session: graphs can be built, nothing sent.
    """

    def __init__(self, client: Client | None, session_id: int, name: str | None = None) -> None:
        self.client = client
        self.session_id = session_id
        self.name = name
        self.active = True  # False once closed
        self._ids = itertools.count(FIRST_ID)
        self._unsubmitted_tasks: list[Task] = []
        self._unsubmitted_objects: list[DataObject] = []
        # Submitted tasks by id number: for wait_all and to explain failures.
        self._submitted_tasks: dict[int, Task] = {}
        self._failure: str | None = None  # text of the TaskException once the session failed
        # "fail" (Rain 0.4) or "continue" (docs/policies.md); set by Client.new_session
        self.on_failure: str = "fail"
        # Prints tasks' output as it comes (new_session(echo=True)); stopped by close().
        self._echo: OutputEcho | None = None
        # The graph being built stays out of the cyclic GC's scans until submit (graph_gc.py).
        self._gc_freeze = GraphFreeze()
        self._until_freeze = FREEZE_EVERY

    def __repr__(self) -> str:
        closed = "" if self.active else " closed"
        return f"<Session {self.session_id} {self.name!r}{closed}>"

    # --- active-session stack -----------------------------------------------------------------

    def __enter__(self) -> Session:
        self._check_open()
        push_session(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc_value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        pop_session(self)
        try:
            self.close()
        except RainException:
            if exc_type is None:
                raise
            # An error is already on its way out of the block; it says more than this one.

    @contextlib.contextmanager
    def bind_only(self) -> Generator[Session, None, None]:
        """Makes the session active inside a ``with`` block without closing it at the end."""
        self._check_open()
        push_session(self)
        try:
            yield self
        finally:
            pop_session(self)

    def set_as_default(self) -> None:
        """Makes this session active whenever the stack is empty."""
        self._check_open()
        set_default_session(self)

    # --- graph building -----------------------------------------------------------------------

    @property
    def task_count(self) -> int:
        """Number of tasks not submitted yet."""
        return len(self._unsubmitted_tasks)

    @property
    def dataobj_count(self) -> int:
        """Number of data objects not submitted yet."""
        return len(self._unsubmitted_objects)

    def _check_open(self) -> None:
        if not self.active:
            raise RainException(f"{self} is closed")

    def _new_id(self) -> ID:
        if not self.active:
            self._check_open()
        return new_id(ID, (self.session_id, next(self._ids)))

    def _register_task(self, task: Task) -> None:
        """Adds a fully built task (its id came from ``_new_id``)."""
        if not self.active:
            self._check_open()
        self._unsubmitted_tasks.append(task)
        self._until_freeze -= 1
        if not self._until_freeze:
            self._freeze_graph()

    def _register_object(self, obj: DataObject) -> ID:
        if not self.active:
            self._check_open()
        self._unsubmitted_objects.append(obj)
        self._until_freeze -= 1
        if not self._until_freeze:
            self._freeze_graph()
        return new_id(ID, (self.session_id, next(self._ids)))

    def _freeze_graph(self) -> None:
        self._until_freeze = FREEZE_EVERY
        self._gc_freeze.tick()

    def keep_all(self) -> None:
        """Keeps every object not submitted yet."""
        for obj in self._unsubmitted_objects:
            obj.keep()

    # --- talking to the server ----------------------------------------------------------------

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise TaskException(self._failure)

    def _server_call(self, endpoint: str, *args: Any) -> Any:
        """Calls ``ServerApi.<endpoint>(session_id, *args)``; a failed session becomes a
        TaskException explaining the failed task, remembered for every later call."""
        self._check_open()
        if self.client is None:
            raise RainException(f"{self} is offline (it has no client)")
        self._raise_if_failed()
        try:
            return getattr(self.client._api, endpoint)(self.session_id, *args)
        except TaskException as error:
            explained = self._explain_failure(str(error))
            if error.kind == "TaskFailed":
                # Only the tasks waited for failed (or were cancelled): the session goes on.
                failure = TaskException(explained)
                failure.kind = error.kind
                raise failure from None
            self._failure = explained
            raise TaskException(self._failure) from None

    def _explain_failure(self, message: str) -> str:
        """Adds where the failed task was created (and its debug text) to the server's error."""
        task: Task | None = None
        for sid, number in re.findall(r"\b(\d+)/(\d+)\b", message):
            task = self._submitted_tasks.get(int(number))
            if int(sid) == self.session_id and task is not None:
                break
        else:
            return message
        assert task is not None  # the loop ended by break
        name = f", name {task.spec.name!r}" if task.spec.name else ""
        lines = [message, "", f"Task {format_id(task.id)} ({task.spec.task_type}{name}) was "
                 "created at:"]
        lines.append(format_site(task._site))
        debug = task.info.debug if task.info is not None else ""
        if debug and debug not in message:
            lines += ["Debug:", debug]
        return "\n".join(lines)

    def submit(self) -> None:
        """Sends every task and object created since the last submit to the server."""
        tasks = self._unsubmitted_tasks
        objects = self._unsubmitted_objects
        self._check_inputs_available(tasks)
        # Big graphs create a few hundred thousand short-lived containers here; pausing the
        # cyclic GC meanwhile avoids repeated full collections (it is resumed right after).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            if self._sends_compact():
                self._server_call("submit_encoded", COMPACT_SUBMIT_CONTENT_TYPE,
                                  lambda: encode_submit(tasks, objects))
            else:
                task_json = [_task_json(task) for task in tasks]
                object_json, constants = _objects_to_json(objects)
                self._server_call("submit", task_json, object_json, constants)
        except KeyboardInterrupt as interrupt:
            # Ctrl-C after the whole body was sent: the server has the graph (the transport
            # says so), so it counts as submitted here too; earlier, the server dropped it.
            if getattr(interrupt, "rain_submitted", False):
                self._mark_submitted(tasks, objects)
            raise
        finally:
            if gc_was_enabled:
                gc.enable()
            self._gc_freeze.thaw()
        self._mark_submitted(tasks, objects)

    def _sends_compact(self) -> bool:
        """Submits go in the compact encoding (rpc/compact.py) unless RAIN_SUBMIT_ENCODING=json,
        or the client's API takes JSON submits only (test doubles)."""
        if os.environ.get("RAIN_SUBMIT_ENCODING", "compact") == "json":
            return False
        return self.client is not None and hasattr(self.client._api, "submit_encoded")

    def _mark_submitted(self, tasks: Iterable[Task], objects: Iterable[DataObject]) -> None:
        self._unsubmitted_tasks = []
        self._unsubmitted_objects = []
        submitted = self._submitted_tasks
        for task in tasks:
            task.state = TaskState.notAssigned
            submitted[task.id.id] = task
        for obj in objects:
            obj.state = DataObjectState.finished if obj.data is not None \
                else DataObjectState.unfinished

    def _check_inputs_available(self, tasks: Iterable[Task]) -> None:
        """An object of an earlier submit may be used only if it was kept (and still is), or if
        it is a client constant: the server keeps those until the session closes."""
        for task in tasks:
            for obj in task._in:
                if obj.state is not None and not obj._keep and obj.data is None:
                    raise RainException(
                        f"{task} uses {obj} from an earlier submit that is not kept")

    def _split_items(self, items: Iterable[object], action: str) -> tuple[list[int], list[int]]:
        """Task and object id numbers of ``items`` (checked: submitted, of this session)."""
        task_ids: list[int] = []
        object_ids: list[int] = []
        for item in items:
            item_of: Task | DataObject
            if isinstance(item, Task):
                target = task_ids
                item_of = item
            elif isinstance(item, DataObject):
                target = object_ids
                item_of = item
            else:
                raise TypeError(f"cannot {action} {item!r}: only tasks and data objects")
            if item_of.session is not self:
                raise RainException(f"{item_of} belongs to another session than {self}")
            if item_of.state is None:
                raise RainException(f"cannot {action} {item_of}: it was not submitted")
            target.append(item_of.id.id)
        return task_ids, object_ids

    def wait(self, items: Items, progress: bool | None = None) -> None:
        """Blocks until all the given tasks and data objects are finished.

        ``progress=True`` (or env ``RAIN_PROGRESS=1``) shows a progress bar of the items on a
        terminal or in Jupyter (see ``rain.client.progress``)."""
        items = _as_list(items)
        task_ids, object_ids = self._split_items(items, "wait for")
        bar = self._progress_bar(progress, "items")
        if bar is None:
            self._server_call("wait", task_ids, object_ids, "all")
        else:
            total = len(task_ids) + len(object_ids)
            try:
                while True:
                    done, tasks, objects = self._server_call(
                        "wait_once", task_ids, object_ids, "all", POLL_SECONDS)
                    bar.update(total if done else len(tasks) + len(objects), total, final=done)
                    if done:
                        break
            finally:
                bar.close()
        for item in items:
            item._mark_finished()

    def _progress_bar(self, progress: bool | None, unit: str) -> ProgressBar | None:
        """A drawing ProgressBar if wanted and there is somewhere to draw it, else None."""
        if not progress_wanted(progress):
            return None
        bar = ProgressBar.create(f"Session {self.session_id}", unit=unit)
        return bar if bar.active else None

    def wait_some(self, items: Items) -> tuple[list[Task], list[DataObject]]:
        """Blocks until at least one of the items is finished; returns the finished ones as
        ``(tasks, data_objects)``."""
        items = _as_list(items)
        task_ids, object_ids = self._split_items(items, "wait for")
        if not items:
            return [], []
        done_task_ids, done_object_ids = self._server_call("wait", task_ids, object_ids, "some")
        done_tasks: set[int] = set(done_task_ids)
        done_objects: set[int] = set(done_object_ids)
        finished_tasks: list[Task] = []
        finished_objects: list[DataObject] = []
        for item in items:
            if isinstance(item, DataObject):
                if item.id.id in done_objects:
                    item._mark_finished()
                    finished_objects.append(item)
            elif item.id.id in done_tasks:
                item._mark_finished()
                finished_tasks.append(item)
        return finished_tasks, finished_objects

    def wait_all(self, progress: bool | None = None) -> None:
        """Blocks until every task submitted so far is finished (at once if there is none).

        ``progress=True`` (or env ``RAIN_PROGRESS=1``) shows a progress bar (finished / total
        tasks of the session, rate, ETA) on a terminal or in Jupyter; nothing is written when
        stderr is not a terminal."""
        if not self._submitted_tasks:
            self._check_open()
            self._raise_if_failed()
            return
        bar = self._progress_bar(progress, "tasks")
        if bar is None:
            self._server_call("wait_all")
        else:
            try:
                while True:
                    done = self._server_call("wait_all_once", POLL_SECONDS)
                    counts = self._server_call("session_progress")
                    if counts is not None:
                        finished, total = counts
                        bar.update(total if done else finished, total, final=done)
                    if done:
                        break
            finally:
                bar.close()
        for task in self._submitted_tasks.values():
            task._mark_finished()

    def cancel(self, tasks: Task | Iterable[Task]) -> list[Task]:
        """Stops the given tasks (running ones are killed) and every task depending on them;
        returns the tasks stopped. Their outputs will not exist; waiting for them raises."""
        items = _as_list(tasks)
        task_ids, object_ids = self._split_items(items, "cancel")
        if object_ids:
            raise TypeError("cancel takes tasks, not data objects")
        stopped: list[int] = self._server_call("cancel", task_ids)
        return [self._submitted_tasks[i] for i in stopped if i in self._submitted_tasks]

    def failed_tasks(self) -> list[Task]:
        """The tasks that failed so far in an ``on_failure="continue"`` session (their own
        failure, or an input's), in order; each one's ``info.error`` says why."""
        failed = self._server_call("failed_tasks")
        tasks: list[Task] = []
        for entry in failed:
            task = self._submitted_tasks.get(entry["id"])
            if task is None:
                continue
            task.state = TaskState.failed
            if task.info is None:
                task.info = TaskInfo()
            task.info.error = entry["error"]
            tasks.append(task)
        return tasks

    def rerun_failed(self) -> list[Task]:
        """Runs the failed tasks of an ``on_failure="continue"`` session and their dependents
        again (e.g. after fixing a transient cause); returns them."""
        ids: list[int] = self._server_call("rerun_failed")
        tasks = [self._submitted_tasks[i] for i in ids if i in self._submitted_tasks]
        for task in tasks:
            task.state = TaskState.notAssigned
        return tasks

    def fetch(self, obj: DataLike, path: str | os.PathLike[str] | None = None) -> DataInstance:
        """Downloads a kept data object (waiting until it is finished) as a DataInstance:
        in memory (one copy), or with ``path`` streamed to a new file (a directory: unpacked
        into a new directory) in O(1) memory, the instance then backed by that path."""
        obj = to_dataobj(obj)
        self._split_items((obj,), "fetch")
        if not obj._keep:
            raise RainException(f"cannot fetch {obj}: it is not kept (call keep() before submit)")
        header: JsonObject
        if path is not None:
            header = self._server_call("fetch_to", obj.id.id, os.fspath(path))
            self._fetched(obj, header)
            return DataInstance(path=os.fspath(path),
                                data_type=DataType.from_str(header.get("data_type", "blob")),
                                spec=obj.spec, info=obj.info, data_object=obj)
        header, data = self._server_call("fetch", obj.id.id)
        self._fetched(obj, header)
        return DataInstance(data, data_type=DataType.from_str(header.get("data_type", "blob")),
                            spec=obj.spec, info=obj.info, data_object=obj)

    @staticmethod
    def _fetched(obj: DataObject, header: JsonObject) -> None:
        obj.info = ObjectInfo.from_json(header.get("info", {}))
        if header.get("content_type") and not obj.info.content_type:
            obj.info.content_type = header["content_type"]
        obj._mark_finished()

    def update(self, items: Items) -> None:
        """Downloads the current state and info of the given tasks and data objects."""
        items = _as_list(items)
        task_ids, object_ids = self._split_items(items, "update")
        answer: JsonObject = self._server_call("update", task_ids, object_ids)
        tasks: dict[int, JsonObject] = {t["id"]: t for t in answer.get("tasks", [])}
        objects: dict[int, JsonObject] = {o["id"]: o for o in answer.get("objects", [])}
        for item in items:
            if isinstance(item, DataObject):
                entry = objects.get(item.id.id)
                if entry is not None:
                    item.state = DataObjectState(entry["state"])
                    item.info = ObjectInfo.from_json(entry.get("info", {}))
            else:
                entry = tasks.get(item.id.id)
                if entry is not None:
                    item.state = TaskState(entry["state"])
                    item.info = TaskInfo.from_json(entry.get("info", {}))

    def unkeep(self, objects: Items) -> None:
        """Releases kept objects; the server may then free them."""
        data_objects = [to_dataobj(o) for o in _as_list(objects)]
        for obj in data_objects:
            if not obj._keep:
                raise RainException(f"cannot unkeep {obj}: it is not kept")
        submitted = [obj for obj in data_objects if obj.state is not None]
        if submitted:
            _, object_ids = self._split_items(submitted, "unkeep")
            self._server_call("unkeep", object_ids)
        for obj in data_objects:
            obj._keep = False

    def close(self) -> None:
        """Closes the session: the server drops its tasks and objects. Never raises for a
        failed session. The active-session stack is left alone (as in Rain 0.4): a closed
        session stays active until its ``with`` block ends, and creating tasks in it fails."""
        if not self.active:
            return
        self.active = False
        self._gc_freeze.thaw()
        if default_session() is self:
            set_default_session(None)
        if self.client is not None:
            try:
                self.client._api.close_session(self.session_id)
            except RainException as error:
                # Already gone on the server (or the server itself is gone): nothing to do.
                if error.kind not in _GONE_KINDS and self.client._api.lifeline.alive:
                    raise
            finally:
                if self._echo is not None:
                    self._echo.stop()


# The two functions below are the hot path of big submits: plain dicts, no helper objects.

def _task_json(task: Task) -> JsonObject:
    """A task as the dict of the submit header."""
    spec = task._spec
    if spec is not None:
        return _task_to_json(spec)
    labels = task._in_labels
    out: JsonObject = {
        "id": task.id,
        "task_type": task._task_type,
        "inputs": [{"id": obj.id} for obj in task._in] if labels is None else
        [{"id": obj.id} if label is None else {"id": obj.id, "label": label}
         for obj, label in zip(task._in, labels)],
        "outputs": [obj.id for obj in task._out],
        "resources": task._resources,
    }
    return optional_fields(out, task._config, task._name, task._user, task._policy)


def _task_to_json(spec: TaskSpec) -> JsonObject:
    """A TaskSpec as the dict of the submit header."""
    out: JsonObject = {
        "id": spec.id,
        "task_type": spec.task_type,
        "inputs": [{"id": i.id} if i.label is None else {"id": i.id, "label": i.label}
                   for i in spec.inputs],
        "outputs": spec.outputs,
        "resources": spec.resources,
    }
    return optional_fields(out, spec.config, spec.name, spec.user, spec.policy)


def _objects_to_json(objects: Iterable[DataObject]) -> tuple[list[JsonObject], list[bytes]]:
    """``SubmittedObject`` dicts, and the data of the constants among them in order."""
    entries: list[JsonObject] = []
    constants: list[bytes] = []
    for obj in objects:
        spec = obj._spec
        if spec is None:
            spec_json: JsonObject = {
                "id": obj.id, "data_type": "blob" if obj._data_type is DataType.BLOB else "dir"}
            if obj._label is not None:
                spec_json["label"] = obj._label
            if obj._content_type:
                spec_json["content_type"] = obj._content_type
        else:
            spec_json = {"id": spec.id,
                         "data_type": "blob" if spec.data_type is DataType.BLOB else "dir"}
            if spec.label is not None:
                spec_json["label"] = spec.label
            if spec.content_type:
                spec_json["content_type"] = spec.content_type
            if spec.user:
                spec_json["user"] = spec.user
        entry: JsonObject = {"spec": spec_json}
        if obj._keep:
            entry["keep"] = True
        if obj.data is not None:
            entry["data_size"] = len(obj.data)
            constants.append(obj.data)
        entries.append(entry)
    return entries, constants
