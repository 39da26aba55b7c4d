# Generated from the repository's VERSION file by client_py/setup.py; do not edit by hand.
__version__ = '0.4.0'
