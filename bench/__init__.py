"""Benchmarks that print tables (not timed tests). See bench/README.md; importing this package sets Django up."""

from bench.common import configure

configure()
