"""What the tests and the benchmarks share: fakes for the agent's models, the fault rigs,
the real server's helpers and the wire-sample recorder."""
