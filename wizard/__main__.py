"""``python -m wizard``: a launcher alias of ``kolla-wizard`` (nothing imports this module, so the
core itself still never reaches the composition root; tests/unit/test_layering.py names this file
as the one exception)."""
import sys

from kolla_wizard.main import main

sys.exit(main())
