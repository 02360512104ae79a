"""Benchmark scripts: run as ``python -m benchmarks.<name>``; figures go to RESULTS.md."""
