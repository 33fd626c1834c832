"""Fuzzing through the gateway (schemathesis): tests/fuzz/fuzzer.py, `python -m tests.fuzz`."""
