"""Support library for running a Python app on the highly available stack.

Subpackages: ``redis``, ``postgres``, ``health``, ``metrics`` (see docs/architecture.md). Shared
modules: ``env`` (the environment layer every settings reader uses), ``redact`` (credentials out of
messages), ``hooks`` (the per-call hook protocols), ``app_env`` (APP_ENV, APP_VERSION,
METRICS_TOKEN) and ``tokens`` (the bearer-token check).
"""
