"""JupyterHub configuration of Agoria TRE: assignments only.

``agoria-tre hub`` starts JupyterHub with this file and the environment it reads; the
decisions behind each value are in ``agoria_tre.hub.config`` (tested there).
"""

from agoria_tre.hub import config as agoria

c = get_config()  # type: ignore[name-defined]  # noqa: F821
hub = agoria.HubSettings.from_env()

# Browsers reach the proxy; workspaces reach the hub's API on their network's gateway.
c.JupyterHub.bind_url = hub.public_url
c.JupyterHub.hub_bind_url = f"http://0.0.0.0:{hub.api_port}"
c.JupyterHub.hub_connect_ip = "127.0.0.1"
c.ConfigurableHTTPProxy.api_url = hub.proxy_api_url
c.ConfigurableHTTPProxy.command = agoria.proxy_command()
c.ConfigurableHTTPProxy.pid_file = str(hub.run_dir / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{hub.run_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hub.run_dir / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(hub.run_dir / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# One named server per project; the home page lists the user's projects.
c.JupyterHub.allow_named_servers = True
c.JupyterHub.named_server_limit_per_user = 0
c.JupyterHub.redirect_to_server = False
c.JupyterHub.default_url = "/hub/home"
c.JupyterHub.template_paths = [agoria.TEMPLATES]
c.JupyterHub.template_vars = {"agoria_projects": agoria.projects_of}

# Logins: OpenID Connect in production, generated demo users only in demo mode.
c.JupyterHub.authenticator_class = hub.authenticator
c.Authenticator.allow_all = True  # project access comes from the catalog, not the login
if hub.oidc is not None:
    c.GenericOAuthenticator.authorize_url = hub.oidc.authorize_url
    c.GenericOAuthenticator.token_url = hub.oidc.token_url
    c.GenericOAuthenticator.userdata_url = hub.oidc.userdata_url
    c.GenericOAuthenticator.client_id = hub.oidc.client_id
    c.GenericOAuthenticator.client_secret = hub.oidc.client_secret
    c.GenericOAuthenticator.username_claim = hub.oidc.username_claim
    c.GenericOAuthenticator.scope = list(hub.oidc.scope)
    c.GenericOAuthenticator.oauth_callback_url = f"{hub.public_url}/hub/oauth_callback"

# Services: the idle culler, the grant reconciler, the airlock, the platform's own token.
c.JupyterHub.services = hub.services()
c.JupyterHub.load_roles = hub.roles()

# Workspaces.
c.JupyterHub.spawner_class = "agoria_tre.hub.spawner.ProjectSpawner"
c.ProjectSpawner.subnet_pool = hub.subnet_pool
c.ProjectSpawner.project_storage = hub.project_storage
c.ProjectSpawner.airlock_port = hub.airlock_port
c.DockerSpawner.client_kwargs = {"base_url": hub.runtime_url}
c.Spawner.env_keep = []
c.Spawner.server_token_scopes = agoria.SERVER_TOKEN_SCOPES
c.Spawner.cmd = ["jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60
