"""Collect and host: source extracts in, pseudonymised immutable dataset versions out, and
each project's unlinkable copy of the versions it is granted."""
