"""Where the history goes: the git writer (gitstore, on gitrun and gitremote) and PostHog.

Imports `core` only.
"""
