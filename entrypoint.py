"""The action's entry point: hand over to `traffic_sync.cli.main()`, nothing else.

It also runs from a clone (`python entrypoint.py --help`): the package's `src/` folder beside
this file is put first on the import path.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from traffic_sync.cli import main

raise SystemExit(main())
