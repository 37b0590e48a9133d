"""sqlite-utils, imported without numpy.

sqlite-utils imports numpy whenever it is installed, only to accept numpy values in the rows
it is given; embedarc never gives it any (its values are Python's own), and numpy, installed
for the perceptual hashes, costs every command about 35 ms at start-up. So sqlite-utils is
imported while numpy is hidden, unless something has imported numpy already; numpy itself
stays importable for whoever needs it.
"""

from __future__ import annotations

import sys

if "sqlite_utils" in sys.modules or "numpy" in sys.modules:
    import sqlite_utils
else:
    sys.modules["numpy"] = None  # type: ignore[assignment]  # "not installed", for this import
    try:
        import sqlite_utils
    finally:
        del sys.modules["numpy"]

__all__ = ["sqlite_utils"]
