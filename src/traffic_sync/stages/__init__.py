"""The run's stages: collect from GitHub, store to the data branch, publish to PostHog.

May import `core`, `branch`, `pages`, `github` and `sinks`.
"""
