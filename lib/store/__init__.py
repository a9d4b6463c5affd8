"""Layer 0, storage: every path under the results root, the files of a run
directory (written atomically, read only through checked readers), the lock
that lets one process train a run, and the one reader and writer of
measurement files. Imports nothing else of ``lib``."""
