"""``python -m kolla_wizard``: the same as the ``kolla-wizard`` command."""
import sys

from .main import main

sys.exit(main())
