"""``python -m screens`` opens the TUI with the same options as ``kolla-wizard`` (for textual serve)."""
import sys

from wizard.cli import main

sys.exit(main())
