"""Benchmarks of the placement planner. Run `python -m benchmarks --help`; results and targets are
in docs/benchmarks.md.

Where things are:
  * `generate`: seeded instances (a catalog and a spec of N services) of six families;
  * `baselines`: the plans a person would draw by hand, verified;
  * `run`: the configurations of a run, and running one (timed phases, analyses, baselines);
  * `isolate`: each configuration in a fresh process; killed or crashed runs become rows;
  * `profiling`: cProfile of the default method;
  * `provenance`: the machine, library versions and planner commit a run was measured on;
  * `targets`: the targets and the verdicts; `report`: the markdown report (`fmt`: its cells);
  * `presets`: the named runs (`--preset quick`, `--preset issue19`, the default);
  * `schedule`: how long a run list takes, before it runs (`--list`);
  * `runner`: the command line.
"""
