"""``python -m services.cli``: how ``herald up`` starts each service's process."""

import sys

from services.cli.app import main

sys.exit(main())
