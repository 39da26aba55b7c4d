"""A specialized executor written in Python with rain.executor.serve (tests/test_executors.py).

Tasks: `upper` (one blob in, the same text upper-cased out) and `split` (one blob in, two out:
the part before and after config["at"]).
"""
from rain.executor import TaskError, serve


def upper(ctx):
    if len(ctx.inputs) != 1:
        raise TaskError("upper takes one input")
    ctx.debug("upper-casing {} bytes", len(ctx.inputs[0].get_bytes()))
    return ctx.inputs[0].get_str().upper()


def split(ctx):
    data = ctx.inputs[0].get_bytes()
    at = ctx.config["at"]
    ctx.info.user["length"] = len(data)
    return [data[:at], data[at:]]


serve({"upper": upper, "split": split})
