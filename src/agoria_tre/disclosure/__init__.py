"""Automated statistical disclosure control: a pure library.

It reads untrusted output files, rewrites each into a canonical form, and applies the
policy's rules to that form only. It parses and never executes: no unpickling, no notebook
code, no ``eval``. It imports nothing from the catalog, the hub or the airlock, so it runs
the same in a workspace and on the server.
"""
