"""``python3 -m rain.executor``: the Python executor a governor starts for ``py/`` tasks."""

from . import main

main()
