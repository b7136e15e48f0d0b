"""Who holds a lease, and whether that holder is known to be dead.

A lease owner is "HOST:PID:RANDOM". A lease held by a process of this host
that no longer exists (killed with -9, say) can be dropped at once instead of
waiting for it to expire; one held by another host only expires.
"""

from __future__ import annotations

import os
import socket
import uuid


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dead_here(owner: str) -> bool:
    """Is `owner` a process of this host that is no longer running?"""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
