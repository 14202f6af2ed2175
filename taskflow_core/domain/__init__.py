"""The domain: cases and their activity, events and hooks, the declared workflow, the wire
form of a case, and the checks on what callers pass in. Imports nothing else of the core but
its errors."""
