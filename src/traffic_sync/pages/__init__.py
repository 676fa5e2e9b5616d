"""The pages written to the data branch: charts and Markdown.

Imports `core` and `branch` only.
"""
