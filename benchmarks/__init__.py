"""Benchmarks of the placement planner: seeded instances (`generate`), hand-drawn baselines
(`baselines`) and a runner that times every phase in a fresh process (`runner`).
Run `python -m benchmarks --help`; results and targets are in docs/benchmarks.md."""
