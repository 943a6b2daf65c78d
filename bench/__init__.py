"""Speed and memory numbers for Clip Live (`make bench`). Never part of the tests."""

# First of all, as in every service: one BLAS thread (set by `shared`), before any benchmark
# imports numpy. A benchmark that imported numpy first ran its math on every core and read high.
import shared  # noqa: F401
