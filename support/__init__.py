"""What the tests and the benchmarks share: fakes for the agent's models, the fault rigs,
the real server's and the cluster's helpers, the worker in a child process, the user's app on
a real server and the wire-sample recorder."""
