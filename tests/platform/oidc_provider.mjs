// A local OpenID Connect provider for the login tests: the oidc-provider library (a certified
// implementation, installed from npm by scripts/test.sh) configured with one client and a few
// users whose passwords its own sign-in page checks (oidc-provider's development sign-in
// accepts any password). Consent is granted at once, as for a first-party client.
// Usage: PORT=9001 CLIENT_ID=hub CLIENT_SECRET=s REDIRECT_URIS=http://127.0.0.1:8000/hub/oauth_callback \
//        USERS_JSON='{"alice":{"password":"pw","email":"alice@example.org"}}' node provider.mjs [PORT]
// USERS_FILE=path.json may replace USERS_JSON. TOKEN_AUTH_METHOD defaults to client_secret_post
// (GenericOAuthenticator's default, basic_auth=False); oidc-provider 9 accepts basic and post either way.
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const t0 = Date.now();
const PORT = Number(process.argv[2] || process.env.PORT || 9001);
const ISSUER = `http://127.0.0.1:${PORT}`;
const USERS = JSON.parse(process.env.USERS_FILE
  ? fs.readFileSync(process.env.USERS_FILE, 'utf8')
  : (process.env.USERS_JSON || '{"alice":{"password":"alice-pw"}}'));

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' };

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: process.env.CLIENT_ID || 'jupyterhub',
    client_secret: process.env.CLIENT_SECRET || 'hub-secret',
    redirect_uris: (process.env.REDIRECT_URIS || 'http://127.0.0.1:8000/hub/oauth_callback').split(','),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: process.env.TOKEN_AUTH_METHOD || 'client_secret_post',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email', 'email_verified'],
  },
  features: { devInteractions: { enabled: false } },
  // PKCE: optional for confidential clients by default; S256 is verified when the client sends it.
  async findAccount(ctx, sub) {
    const u = USERS[sub];
    if (!u) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          preferred_username: sub,
          name: u.name || sub,
          email: u.email || `${sub}@example.org`,
          email_verified: true,
        };
      },
    };
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const loginPage = (uid, error = '', login = '') => `<!DOCTYPE html><html><head><title>Sign-in</title></head><body>
<h1>Sign-in</h1>${error ? `<p class="error">${esc(error)}</p>` : ''}
<form autocomplete="off" action="/interaction/${esc(uid)}/login" method="post">
<input type="hidden" name="uid" value="${esc(uid)}"/>
<input required type="text" name="login" value="${esc(login)}" placeholder="username"/>
<input required type="password" name="password" placeholder="password"/>
<button type="submit">Sign-in</button></form></body></html>`;

const readForm = (req) => new Promise((resolve, reject) => {
  let b = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { b += c; if (b.length > 1e5) req.destroy(); });
  req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(b))));
  req.on('error', reject);
});

function html(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return html(res, 400, 'interaction mismatch');
  const { prompt, params, session, grantId } = details;

  if (req.method === 'GET' && !action) {
    if (prompt.name === 'login') return html(res, 200, loginPage(uid, '', params.login_hint || ''));
    if (prompt.name === 'consent') {
      // auto-grant everything that is missing (first-party test client)
      const grant = grantId ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      if (d.missingResourceScopes) {
        for (const [ind, sc] of Object.entries(d.missingResourceScopes)) grant.addResourceScope(ind, sc.join(' '));
      }
      return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: true });
    }
    return html(res, 501, 'unsupported prompt');
  }
  if (req.method === 'POST' && action === 'login') {
    const { login = '', password = '' } = await readForm(req);
    const u = Object.hasOwn(USERS, login) ? USERS[login] : null;
    const ok = u && typeof u.password === 'string'
      && crypto.timingSafeEqual(crypto.createHash('sha256').update(password).digest(),
        crypto.createHash('sha256').update(u.password).digest());
    if (!ok) return html(res, 401, loginPage(uid, 'Invalid username or password', login));
    return provider.interactionFinished(req, res, { login: { accountId: login } },
      { mergeWithLastSubmission: false });
  }
  return html(res, 405, 'method not allowed');
}

const oidc = provider.callback();
const server = http.createServer(async (req, res) => {
  const m = /^\/interaction\/([\w-]+)(?:\/(login))?\/?$/.exec(req.url.split('?')[0]);
  if (!m) return oidc(req, res);
  try {
    await interaction(req, res, m[1], m[2]);
  } catch (err) {
    console.error('interaction error', err);
    if (!res.headersSent) html(res, 400, `interaction error: ${esc(err.message)}`);
  }
});
server.listen(PORT, '127.0.0.1', () => {
  console.log(`oidc provider ready issuer=${ISSUER} in ${Date.now() - t0}ms`);
});
