"""The ``herald`` command: ``up``, ``run SERVICE``, ``migrate``, ``schedules``, ``send-test-email``.

``herald up`` runs each service as a child process (``python -m services.cli run SERVICE``),
restarts one that crashes, and stops them all together; see ``supervisor``.
"""

from services.cli.app import STOP_GRACE_S, app, main
from services.cli.catalogue import SERVICES

__all__ = ["SERVICES", "STOP_GRACE_S", "app", "main"]
