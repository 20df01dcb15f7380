"""The fault suite's harness: fuzzing, floods, lossy links and reconnect cycles against the
agent's synchronizer on the in-memory room. The tests in `tests/fault` run it at a modest
size; `benchmarks/bench_faults.py` at full size."""
