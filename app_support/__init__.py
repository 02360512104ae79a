"""Support library for running a Python app on the highly available stack.

Subpackages: ``redis``, ``postgres``, ``health``, ``metrics`` (see docs/architecture.md); the
modules ``app_env`` and ``tokens`` hold what health and metrics share.
"""
