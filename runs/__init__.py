"""Runs: the run registry and the processes behind it, shared by ``genre`` and ``gan``.

- :mod:`runs.store`: every run, its live progress and results, in SQLite (schema-versioned);
- :mod:`runs.proc`: whether a run's process is still alive (pid + start time), and signalling
  it (no registry: the store asks it about liveness);
- :mod:`runs.launch`: starting a run's process in its own session, cancelling it, and ending
  runs whose process vanished (uses the store and proc);
- :mod:`runs.stop`: a trainer's Cancel (SIGTERM, Ctrl-C), never lost in C callbacks;
- :mod:`runs.files`: the atomic JSON writes and log tails of run folders;
- :mod:`runs.home`: the default data folder.

This package knows nothing of models or GANs: it never imports ``genre``, ``gan``, ``audio``,
``mood`` or ``streamlit`` (the callers pass the command to run and where to run it).
"""
