"""Running external programs (docs/guide/programs.md): Execute with inputs
mapped to files and stdout as an output, Input paths, stdin, shell commands, and a Program
used as a factory of Execute tasks.

Start Rain first (`./rain start --simple`), then run `/usr/bin/python3 examples/programs.py`.
Optional arguments: HOST PORT of the server (default localhost 7210).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client_py"))

from rain.client import Client, Input, Output, Program, blob, tasks  # noqa: E402

host = sys.argv[1] if len(sys.argv) > 1 else "localhost"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 7210

client = Client(host, port)

rain_grep = Program(["grep", "rain", Input("my_input", path="my_file")], stdout=True)

with client.new_session() as session:
    data = blob(b"It is\nrainy day\n")

    # Maps 'data' into a randomly named file XXX and runs "grep rain XXX"
    task = tasks.Execute(["grep", "rain", data], stdout=True)
    task.output.keep()

    # The file name chosen by an Input; the output read from a file the program creates
    numbered = tasks.Execute(["sh", "-c", "nl -ba myfile > numbered.txt",
                              Input("text", path="myfile", dataobj=data)],
                             output_paths=[Output("numbered", path="numbered.txt")])
    numbered.output.keep()

    # Standard input, and a command run by the shell
    count = tasks.Execute("wc -l", stdin=data, stdout=True)
    count.output.keep()
    upper = tasks.Execute("tr a-z A-Z < in.txt", shell=True, stdout=True,
                          input_paths=[Input("in.txt", dataobj=data)])
    upper.output.keep()

    # A Program is a pattern; calling it creates an Execute task in the active session
    grep_task = rain_grep(my_input=data)
    grep_task.output.keep()

    session.submit()
    print(task.output.fetch().get_bytes())  # Prints b'rainy day\n'
    print(numbered.output.fetch().get_str().replace("\t", " ").split("\n")[1].strip())
    print(count.output.fetch().get_str().strip(), upper.output.fetch().get_str().split())
    print(grep_task.output.fetch().get_bytes())

client.close()
