"""Where the history goes: the git writer (gitstore) and PostHog.

Imports `core` only.
"""
