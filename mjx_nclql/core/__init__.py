"""What every part shares: the validated configuration and its Hydra composition, the
project's error base class, and atomic file writes. Imports nothing else of the package."""
