"""The core: the records (models, config), the merge rules (history, growth), the error
hierarchy, the Log Protocol, git's object ids and shards.

Pure and self-contained: imports nothing from the other traffic_sync folders.
"""
