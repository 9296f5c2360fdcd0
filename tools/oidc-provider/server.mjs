// A real OpenID Connect provider (npm `oidc-provider`) for the maillage-oidc tests.
//
// TEST USE ONLY. It listens on loopback over plain HTTP, keeps everything in memory, signs with a
// key made at startup, and logs anyone in as any test account without a password: insecure by
// design, which is acceptable only because it is a throwaway provider on 127.0.0.1.
//
// Usage: node server.mjs [PORT]   (PORT from argv, else $OIDC_PROVIDER_PORT, else 0 = any free port)
// Prints `READY http://127.0.0.1:PORT` on stdout once listening; the issuer is that URL.
//
// Environment (defaults in brackets):
//   MAILLAGE_TEST_OIDC_CLIENT_ID      [maillage-test]
//   MAILLAGE_TEST_OIDC_CLIENT_SECRET  [maillage-test-secret]
//   MAILLAGE_TEST_OIDC_REDIRECT_URI   [http://127.0.0.1:8080/auth/oidc/callback]
// That client authenticates with client_secret_basic; a second one, CLIENT_ID + "-post" with the
// same secret and redirect URI, must use client_secret_post.
//
// Logging in without a browser: GET the authorization URL (following redirects, keeping cookies)
// lands on /interaction/:uid, a form whose `action` is /interaction/:uid/login. POST it with
// `login=<account id>` (e.g. psc-0001); consent is then given automatically, and the provider
// redirects to redirect_uri with `code`, `state` and `iss`.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const ACCOUNTS = {
  'psc-0001': {
    email: 'dr.martin@example.test',
    email_verified: true,
    given_name: 'Claire',
    family_name: 'Martin',
    // Pro Santé Connect-like claim: national id = 8 + RPPS (fictitious, Luhn-valid RPPS).
    SubjectNameID: '810000000009',
  },
  'psc-0002': {
    email: 'dr.bernard@example.test',
    email_verified: false,
    given_name: 'Paul',
    family_name: 'Bernard',
    SubjectNameID: '810000000017',
  },
};

const port = Number(process.argv[2] ?? process.env.OIDC_PROVIDER_PORT ?? 0);
const clientId = process.env.MAILLAGE_TEST_OIDC_CLIENT_ID || 'maillage-test';
const clientSecret = process.env.MAILLAGE_TEST_OIDC_CLIENT_SECRET || 'maillage-test-secret';
const redirectUri = process.env.MAILLAGE_TEST_OIDC_REDIRECT_URI || 'http://127.0.0.1:8080/auth/oidc/callback';

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, error) {
  const message = error ? `<p class="error">${escapeHtml(error)}</p>` : '';
  return `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Fournisseur OIDC de test</title></head>
<body>
<h1>Fournisseur OIDC de test (Maillage)</h1>
${message}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
  <label>Compte <input name="login" autofocus></label>
  <button type="submit">Se connecter</button>
</form>
<p>Comptes : ${Object.keys(ACCOUNTS).map(escapeHtml).join(', ')}</p>
</body></html>
`;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, contentType, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

// Gives the client everything the consent prompt says is missing: the test provider trusts it.
async function autoConsent(provider, req, res, interaction) {
  const { prompt, params, session, grantId } = interaction;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const savedGrantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId: savedGrantId } }, { mergeWithLastSubmission: true });
}

// Signature test aid: /decoy/.well-known/openid-configuration is this provider's discovery
// document except that its jwks_uri, /decoy/jwks, holds another public key under the signing
// key's `kid`. A client discovered through it must refuse every ID token of this provider.
async function decoy(issuer, decoyJwks, res, path) {
  if (path === '/decoy/.well-known/openid-configuration') {
    const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    send(res, 200, 'application/json', JSON.stringify({ ...metadata, jwks_uri: `${issuer}/decoy/jwks` }));
    return true;
  }
  if (path === '/decoy/jwks') {
    send(res, 200, 'application/json', JSON.stringify(decoyJwks));
    return true;
  }
  return false;
}

// oidc-provider accepts client_secret_basic and client_secret_post alike for any client; refuse
// Basic authentication of the "-post" client, so that tests can tell which one a client used.
function enforcePostClient(req, res, path) {
  const header = req.headers.authorization ?? '';
  if (req.method !== 'POST' || path !== '/token' || !header.startsWith('Basic ')) return false;
  const [id] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
  if (decodeURIComponent(id ?? '') !== `${clientId}-post`) return false;
  res.setHeader('WWW-Authenticate', 'Basic realm="test"');
  send(res, 401, 'application/json', JSON.stringify({
    error: 'invalid_client',
    error_description: 'this client is registered for client_secret_post',
  }));
  return true;
}

// Our interaction routes: /interaction/:uid (GET) and /interaction/:uid/login (POST).
async function interactions(provider, req, res, path) {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(path);
  if (!match) return false;
  const [, uid, login] = match;
  let interaction;
  try {
    interaction = await provider.interactionDetails(req, res);
  } catch (error) {
    send(res, 400, 'text/plain; charset=utf-8', `interaction not found: ${error.message}\n`);
    return true;
  }
  if (interaction.uid !== uid) {
    send(res, 400, 'text/plain; charset=utf-8', 'interaction mismatch\n');
    return true;
  }
  const promptName = interaction.prompt.name;
  if (!login && req.method === 'GET') {
    if (promptName === 'consent') {
      await autoConsent(provider, req, res, interaction);
    } else {
      send(res, 200, 'text/html; charset=utf-8', loginPage(uid));
    }
    return true;
  }
  if (login && req.method === 'POST' && promptName === 'login') {
    const form = await readForm(req);
    const accountId = form.get('login') ?? '';
    if (!Object.hasOwn(ACCOUNTS, accountId)) {
      send(res, 400, 'text/html; charset=utf-8', loginPage(uid, `compte inconnu : ${accountId}`));
      return true;
    }
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return true;
  }
  send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  return true;
}

function rsaJwk(kid, part) {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...pair[part].export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
}

function providerConfiguration(signingKey) {
  return {
    clients: [
      ['', 'client_secret_basic'],
      ['-post', 'client_secret_post'],
    ].map(([suffix, method]) => ({
      client_id: `${clientId}${suffix}`,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: method,
    })),
    jwks: { keys: [signingKey] },
    // PKCE for every client; oidc-provider 9 only implements S256.
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'email', 'scope_all'],
    claims: {
      openid: ['sub'],
      profile: ['given_name', 'family_name', 'name'],
      email: ['email', 'email_verified'],
      scope_all: ['SubjectNameID'],
    },
    async findAccount(_ctx, sub) {
      const account = ACCOUNTS[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, name: `${account.given_name} ${account.family_name}`, ...account };
        },
      };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      // No other endpoints than the login needs.
      revocation: { enabled: false },
      introspection: { enabled: false },
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // Short-lived artefacts: tests never need more.
    ttl: { AuthorizationCode: 60, AccessToken: 300, IdToken: 300, Interaction: 300, Session: 600, Grant: 600 },
    renderError(ctx, out) {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `${out.error}: ${out.error_description ?? ''}\n`;
    },
  };
}

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const kid = `test-${randomBytes(6).toString('hex')}`;
  const provider = new Provider(issuer, providerConfiguration(rsaJwk(kid, 'privateKey')));
  const decoyJwks = { keys: [rsaJwk(kid, 'publicKey')] };
  const handle = provider.callback();
  server.on('request', (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    decoy(issuer, decoyJwks, res, path)
      .then((handled) => handled || enforcePostClient(req, res, path))
      .then((handled) => handled || interactions(provider, req, res, path))
      .then((handled) => {
        if (!handled) handle(req, res);
      })
      .catch((error) => {
        console.error(error);
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.end();
      });
  });
  console.log(`READY ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
