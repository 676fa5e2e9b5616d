"""The core: records (models), the merge rules (history, growth), the error hierarchy and shards.

Pure and self-contained: imports nothing from the other traffic_sync folders.
"""
