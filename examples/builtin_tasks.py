"""Built-in tasks (docs/guide/tasks-and-objects.md, docs/guide/directories.md): Load, Concat,
Sleep and Store on the governor's file system; directories made, sliced and fetched.

Load and Store work on the file system of the governor that runs them; with `./rain start
--simple` that is this machine. Start Rain first, then run
`/usr/bin/python3 examples/builtin_tasks.py`. Optional arguments: HOST PORT (default localhost
7210).
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client_py"))

from rain.client import Client, blob, directory, tasks  # noqa: E402

host = sys.argv[1] if len(sys.argv) > 1 else "localhost"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 7210

client = Client(host, port)

with tempfile.TemporaryDirectory() as workdir:
    with open(os.path.join(workdir, "data"), "w") as f:
        f.write("external data, ")

    # This example demonstrates usage of four built-in tasks
    with client.new_session() as session:
        data1 = tasks.Load(os.path.join(workdir, "data"))  # A task opening an external file
        data2 = blob("constant data")                       # A constant object
        merge = tasks.Concat((data1, data2))                # Merge two objects
        result = tasks.Sleep(merge, 0.1)                    # Sleep for 0.1 s
        tasks.Store(result, os.path.join(workdir, "result"))  # Write the result into a file
        session.submit()
        session.wait_all()
    with open(os.path.join(workdir, "result")) as f:
        print("stored:", f.read())

    # Directories: a local directory as a constant, a directory made of objects, slices of it.
    os.makedirs(os.path.join(workdir, "tree", "sub"))
    with open(os.path.join(workdir, "tree", "sub", "notes.txt"), "w") as f:
        f.write("a note")
    with client.new_session() as session:
        d = directory(os.path.join(workdir, "tree"))
        d2 = tasks.MakeDirectory([
            ("myfile.txt", blob(b"12345")),    # 'data1' as the file 'myfile.txt'
            ("adir", d),                       # directory 'd' as the subdirectory 'adir'
            ("a/deep/path/x", blob(b"67890")),  # parent directories are created
        ])
        x = tasks.SliceDirectory(d2, "a/deep/path/x")  # a file out of a directory
        deep = tasks.SliceDirectory(d2, "adir/sub/")   # a directory ('/' at the end)
        x.output.keep()
        deep.output.keep()
        session.submit()
        print("sliced file:", x.output.fetch().get_bytes())
        deep.output.fetch().write(os.path.join(workdir, "copy"))
        print("sliced directory:", sorted(os.listdir(os.path.join(workdir, "copy"))))

client.close()
