"""Layer 4, analysis: statistics over seeds, figures, tables, the claims
ledger, the per-profile index and the sentences the notebooks share.
Imports layers 0-3 only; only the command line (``lib.cli``) and the
notebooks sit above it."""
