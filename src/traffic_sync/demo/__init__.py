"""The simulated GitHub: its world, REST and GraphQL answers, on 127.0.0.1.

Tests, benchmarks and the `traffic-sync demo` command (cli_demo.py, an entry module) run
against it. May import every folder up to `stages`; it needs none of them today.
"""
