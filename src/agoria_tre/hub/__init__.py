"""Project workspaces in JupyterHub: the spawner, its pure container spec, networks,
firewall, storage, logins, and the processes that run them (see docs/workspaces.md)."""
