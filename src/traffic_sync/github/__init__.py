"""The GitHub adapter: REST and GraphQL clients, pacing, keepalive, answer checks, the deadline.

Imports `core` only.
"""
