"""multicloud-planner: survivable, lowest-cost placement across public and private clouds."""

__version__ = "0.1.0"
