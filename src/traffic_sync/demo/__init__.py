"""The simulated GitHub (world, REST, GraphQL) and the demo run that drives it.

May import every folder up to `stages`.
"""
