"""The pages written to the data branch, and the run's step summary: charts and Markdown.

charts (Mermaid charts) and axes (their periods, labels and ranges); markdown (escaping and
tables), render (the index and repo pages) and summary (the step summary).
Imports `core` and `branch` only.
"""
