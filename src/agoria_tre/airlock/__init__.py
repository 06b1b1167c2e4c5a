"""The airlock: export requests, their automated check, two-person review and release."""
