"""What several test modules share: the local HTTP server, the sync-test world and clients,
made-up histories, git and branch-tree checks. Test modules import from here, never from
another `test_*.py` (tests/test_layers.py holds that)."""
