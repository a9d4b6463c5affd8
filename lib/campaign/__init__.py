"""Layer 2, campaigns: profile parameters, each notebook's experiment (profile
-> run specs), the run cache and the computing of a profile's runs (in this
process or as Ray tasks), and ``plan``, what a profile still costs. Imports
only ``lib.store`` and ``lib.training``."""
