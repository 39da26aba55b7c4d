"""Python examples of the user guide (../shared/seed/rain-docs.txt), copied verbatim.

tests/test_seed_examples.py runs them unchanged against a test cluster. Examples of the
guide left out: those that are not valid Python as printed (the MyClass, load, content
type, outputs and type hints snippets: stray indentation, "....", a missing parenthesis,
";"), the libsvm pipeline (needs libsvm-tools and iris.csv), and the C++ "Hello" task
class (it fetches an object that was not kept).
"""

# Python tasks / Decorator @remote
DECORATOR_REMOTE = '''\
from rain.client import Client, remote

@remote()
def hello(ctx):
    return "Hello world!"

client = Client("localhost", 7210)

with client.new_session() as session:
    t = hello()                # Create a task
    t.output.keep()
    session.submit()
    result = t.output.fetch()
    print(result)              # Prints b'Hello world!'
'''

# Python tasks / Inputs
INPUTS = '''\
from rain.client import Client, remote, blob

@remote()
def hello(ctx, data1, data2):
    return data1 + data2.get_bytes()

client = Client("localhost", 7210)
with client.new_session() as s:

    # Create data object
    data = blob("Rain!")

    # Creates a task calling function 'hello' in governor
    t = hello(b"Hello ", data)

    t.output.keep()
    s.submit()
    s.wait_all()

    # Prints b'Hello Rain!"
    print(t.output.fetch().get_bytes())
'''

# Python tasks / Debug stream
DEBUG_STREAM = '''\
@remote()
def remote_fn(ctx):
    a = 11
    b = a + 10
    ctx.debug("Variable a = {}", a)
    ctx.debug("Variable b = {}", b)
    raise Exception("Error occured!")

# When this task is executed, you get the following error message:
#
# Exception: Error occured!
#
# Debug:
# Variable a = 11
# Variable b = 21


'''

# Python tasks / Resources (the Python half)
RESOURCES = '''\
# Resere 4 CPUs for a Python task
@remote(cpus=4)
def myfunction(ctx):
    pass
'''

# Attributes 'spec' and 'info' / Python API
ATTRIBUTES = '''\
@remote()
def attr_demo(ctx):
   # read user defined attributes
   foo = ctx.spec.user["foo"]

   # setup new "user_info" attribute
   ctx.info.user["bar"] = [1, 2, foo]

   # Write some debug log
   ctx.debug("Running at governor", ctx.info.governor)
   return b"Result"

with client.new_session() as session:
    task = attr_demo()
    task.spec.user["foo"] = 42
    session.submit()
    session.wait_all()
    task.update()

    # prints: [1, 2, 42]
    print(task.info.user["bar"])

    # prints the debug log
    print(task.info.debug)
'''

# Mapping data objects onto filesystem
MAPPING = '''\
@remote()
def my_remote_function(ctx, input1):
    input1.write("myfile")  # Writes data into 'myfile' that can be edited
                            # without change of the original object
    input1.link("myfile2")  # Creates a read-only file system representation
                            # of data object
'''
