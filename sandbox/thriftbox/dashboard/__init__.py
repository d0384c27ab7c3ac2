"""The dashboard: pages served by ``serve``'s admin API at its root (docs/dashboard.md).

Server-rendered HTML (:mod:`~thriftbox.dashboard.pages`) and one small script (``static/dashboard.js``) that
reads the admin API's own JSON routes, follows the journal over server-sent events (:mod:`~.routes`) and sends
changes with the admin token the page was given. Runs in ``serve``'s process; reaches the mocks only through the
admin API's fan-out and real Thrift calls (:mod:`~.calls`).
"""

from thriftbox.dashboard.routes import Sources, register_dashboard
from thriftbox.dashboard.timeline import Timeline

__all__ = ["Sources", "Timeline", "register_dashboard"]
