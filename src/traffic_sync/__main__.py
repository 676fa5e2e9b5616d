"""`python -m traffic_sync`: the same command as the `traffic-sync` script."""

from traffic_sync.cli import main

raise SystemExit(main())
