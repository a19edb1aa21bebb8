from setuptools import setup

setup(cffi_modules=["src/mempools/_build_ffi.py:ffibuilder"])
