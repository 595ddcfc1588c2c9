"""The only DuckDB user, and all reading of the sources' files.

open_engine(funnel) yields an Engine that may read the funnel's declared files and nothing else:
files.py resolves them, session.py holds the locked-down DuckDB connection, probe.py finds how
to read each CSV (text.py and headers.py make exports readable), views.py registers each source
as a view, copies.py and results.py are the Parquet cache, store.py its folder, keys and atomic
writes; opening.py puts them together into engine.py's Engine.
"""

from funnelcli.engine.copies import Copy
from funnelcli.engine.engine import AMOUNT, Engine
from funnelcli.engine.files import SourceFiles, resolve_files, resolve_source
from funnelcli.engine.opening import open_engine
from funnelcli.engine.session import Progress, memory_limit
from funnelcli.engine.views import ReadMode, Reject, SetAside

__all__ = [
    "AMOUNT",
    "Copy",
    "Engine",
    "Progress",
    "ReadMode",
    "Reject",
    "SetAside",
    "SourceFiles",
    "memory_limit",
    "open_engine",
    "resolve_files",
    "resolve_source",
]
