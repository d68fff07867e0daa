// oidc-op.mjs runs panva's oidc-provider configured the way itsme behaves,
// as the interop suite's upstream OpenID provider: signed (and encrypted)
// request objects, PKCE S256, private_key_jwt only, nested (signed then
// encrypted) ID tokens and userinfo, service:<CODE> scopes, itsme claim
// names through the claims parameter, and itsme's acr values.
//
// It reads its configuration from the JSON file named by OIDC_OP_CONFIG:
//
//   {"port": 4000, "issuer": "http://127.0.0.1:4000",
//    "redirectURI": "http://127.0.0.1:5000/oidc/callback",
//    "clientJWKSURL": "http://127.0.0.1:5000/oidc/jwks",
//    "clients": {"good": "...", "wrongSig": "...", "wrongEnc": "..."},
//    "serviceCodes": {"authentication": "...", "identification": "..."},
//    "cookieKey": "<random>", "pairwiseSalt": "<random>"}
//
// Its own keys are generated at start and live only in memory. The login
// page is one form with hidden inputs only; posting it as found logs
// Maxence Legrand in and grants what the request asked for.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';

import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';

const cfg = JSON.parse(readFileSync(process.env.OIDC_OP_CONFIG, 'utf8'));
const version = createRequire(import.meta.url)('oidc-provider/package.json').version;

const P = 'http://itsme.services/v2/claim/';
const ACR_BASIC = `${P}acr_basic`;
const ACR_ADVANCED = `${P}acr_advanced`;

// Maxence Legrand, as the bridge's itsme emulator knows her
// (itsme/emulator/personas.go); picture points at this OP.
const maxence = {
  name: 'Maxence Legrand',
  given_name: 'Maxence',
  family_name: 'Legrand',
  gender: 'female',
  birthdate: '1981-04-24',
  locale: 'FR',
  picture: `${cfg.issuer}/picture/maxence`,
  email: 'test@itsme.be',
  email_verified: false,
  phone_number: '+32 453519681',
  phone_number_verified: true,
  address: {
    formatted: 'Rue Royale 82 1000 Bruxelles',
    street_address: 'Rue Royale 82',
    postal_code: '1000',
    locality: 'Bruxelles',
  },
  age_gte_16: true,
  age_gte_18: true,
  age_gte_21: true,
  age_gte_30: true,
  [`${P}BENationalNumber`]: '81042419835',
  [`${P}BEeidSn`]: '123-4567890-02',
  [`${P}place_of_birth`]: { formatted: 'Bruxelles', city: 'Bruxelles', country: 'BE' },
  [`${P}claim_citizenship`]: 'BE',
  [`${P}claim_citizenship_as_iso`]: 'BEL',
  [`${P}IDDocumentSN`]: '123-4567890-02',
  [`${P}IDDocumentType`]: 'I',
  [`${P}IDIssuingCountry`]: 'BEL',
  [`${P}validityFrom`]: '2019-03-01T00:00:00Z',
  [`${P}validityTo`]: '2029-03-01T00:00:00Z',
  [`${P}verificationDate`]: '2024-04-01T10:00:00Z',
  [`${P}issuance_locality`]: 'Bruxelles',
  [`${P}claim_device`]: {
    os: 'iOS',
    appName: 'itsme',
    appRelease: '5.2.1',
    deviceLabel: "Maxence's iPhone",
    debugEnabled: false,
    deviceId: 'd3c0b1e2-5a4f-4c1e-9b7a-2f8e6d4c3b1a',
    osRelease: '17.4',
    manufacturer: 'Apple',
    deviceLockLevel: 'BIOMETRIC',
    smsEnabled: true,
    rooted: false,
    deviceModel: 'iPhone 7',
    sdkRelease: '1.0',
  },
};
const accounts = { maxence };

// A fresh RSA key as a private JWK with the given members.
async function rsaJWK(extra) {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  return { ...(await exportJWK(privateKey)), ...extra };
}

// The public members of an RSA JWK.
const publicJWK = ({
  kty, n, e, kid, use, alg,
}) => Object.fromEntries(Object.entries({
  kty, n, e, kid, use, alg,
}).filter(([, v]) => v !== undefined));

async function bridgeKeys() {
  let res;
  try {
    res = await globalThis.fetch(cfg.clientJWKSURL);
  } catch (err) {
    throw new Error(`cannot fetch the bridge's JWKS at ${cfg.clientJWKSURL}: ${err.cause?.message || err.message}`);
  }
  if (!res.ok) throw new Error(`GET ${cfg.clientJWKSURL}: HTTP ${res.status}`);
  const { keys } = await res.json();
  const sig = keys.find((k) => k.kty === 'RSA' && k.use === 'sig');
  const enc = keys.find((k) => k.kty === 'RSA' && k.use === 'enc');
  if (!sig || !enc) throw new Error(`${cfg.clientJWKSURL} lacks a use=sig or a use=enc RSA key`);
  return { sig, enc };
}

const opSig = await rsaJWK({ kid: 'op-sig-1', use: 'sig', alg: 'RS256' });
const opEnc = await rsaJWK({ kid: 'op-enc-1', use: 'enc' });
const bridge = await bridgeKeys();
// The negative clients' foreign keys keep the bridge's kid, so that the
// OP (and the bridge) select them and fail on the key itself, not on an
// unknown kid.
const foreignSig = publicJWK(await rsaJWK({ kid: bridge.sig.kid, use: 'sig', alg: bridge.sig.alg }));
const foreignEnc = publicJWK(await rsaJWK({ kid: bridge.enc.kid, use: 'enc', alg: bridge.enc.alg }));

// The bridge's encryption JWK carries alg RSA-OAEP-256 and oidc-provider
// only encrypts to a key whose alg matches, so the nested tokens use it.
const tokenEncAlg = bridge.enc.alg || 'RSA-OAEP-256';

const clientBase = {
  redirect_uris: [cfg.redirectURI],
  response_types: ['code'],
  grant_types: ['authorization_code'],
  subject_type: 'pairwise',
  token_endpoint_auth_method: 'private_key_jwt',
  token_endpoint_auth_signing_alg: 'RS256',
  require_signed_request_object: true,
  request_object_signing_alg: 'RS256',
  id_token_signed_response_alg: 'RS256',
  id_token_encrypted_response_alg: tokenEncAlg,
  id_token_encrypted_response_enc: 'A128CBC-HS256',
  userinfo_signed_response_alg: 'RS256',
  userinfo_encrypted_response_alg: tokenEncAlg,
  userinfo_encrypted_response_enc: 'A128CBC-HS256',
};

const serviceScopes = Object.values(cfg.serviceCodes).map((code) => `service:${code}`);

// The claims the OP can release: the itsme scopes (profile, email,
// address, phone) and every claim on its own, for the claims parameter.
const claims = {
  acr: null,
  auth_time: null,
  iss: null,
  sid: null,
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'gender', 'birthdate', 'locale', 'picture'],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};
for (const name of Object.keys(maxence)) {
  if (!Object.values(claims).some((v) => Array.isArray(v) && v.includes(name))) claims[name] = null;
}

const algs = {
  clientAuthSigningAlgValues: ['RS256'],
  idTokenSigningAlgValues: ['RS256'],
  requestObjectSigningAlgValues: ['RS256'],
  userinfoSigningAlgValues: ['RS256'],
  idTokenEncryptionAlgValues: ['RSA-OAEP', 'RSA-OAEP-256'],
  requestObjectEncryptionAlgValues: ['RSA-OAEP', 'RSA-OAEP-256'],
  userinfoEncryptionAlgValues: ['RSA-OAEP', 'RSA-OAEP-256'],
  idTokenEncryptionEncValues: ['A128CBC-HS256', 'A256GCM'],
  requestObjectEncryptionEncValues: ['A128CBC-HS256', 'A256GCM'],
  userinfoEncryptionEncValues: ['A128CBC-HS256', 'A256GCM'],
};

const provider = new Provider(cfg.issuer, {
  clients: [
    { ...clientBase, client_id: cfg.clients.good, jwks_uri: cfg.clientJWKSURL },
    { ...clientBase, client_id: cfg.clients.wrongSig, jwks: { keys: [foreignSig, publicJWK(bridge.enc)] } },
    { ...clientBase, client_id: cfg.clients.wrongEnc, jwks: { keys: [publicJWK(bridge.sig), foreignEnc] } },
  ],
  jwks: { keys: [opSig, opEnc] },
  cookies: { keys: [cfg.cookieKey] },
  scopes: ['openid', 'profile', 'email', 'address', 'phone', ...serviceScopes],
  claims,
  acrValues: [ACR_BASIC, ACR_ADVANCED],
  subjectTypes: ['pairwise'],
  // itsme's sub: 36 lowercase characters, one per (user, partner).
  pairwiseIdentifier: (ctx, accountId, client) => createHash('sha256')
    .update(`${cfg.pairwiseSalt}\0${client.sectorIdentifier}\0${accountId}`).digest('hex').slice(0, 36),
  responseTypes: ['code'],
  clientAuthMethods: ['private_key_jwt'],
  pkce: { required: () => true },
  enabledJWA: algs,
  features: {
    devInteractions: { enabled: false },
    encryption: { enabled: true },
    claimsParameter: { enabled: true },
    jwtUserinfo: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: false },
    // Not in itsme's redirect flow.
    pushedAuthorizationRequests: { enabled: false },
    dPoP: { enabled: false },
    resourceIndicators: { enabled: false },
    requestObjects: {
      enabled: true,
      requireSignedRequestObject: true,
      // itsme: the request object names exactly one service:<CODE> scope
      // besides openid, and carries its own lifetime and identifier.
      async assertJwtClaimsAndHeader(ctx, payload, header) {
        // itsme: private_key_jwt clients sign, then encrypt (GET only).
        const raw = String(ctx.query?.request || '');
        if (raw.split('.').length !== 5) {
          throw new errors.InvalidRequestObject('Request Object must be signed then encrypted to the OP');
        }
        const jwe = JSON.parse(Buffer.from(raw.split('.')[0], 'base64url').toString('utf8'));
        log(`request object: JWE alg=${jwe.alg} enc=${jwe.enc} kid=${jwe.kid} cty=${jwe.cty}, JWS alg=${header.alg} kid=${header.kid}`);
        for (const claim of ['iat', 'exp', 'jti']) {
          if (payload[claim] === undefined) {
            throw new errors.InvalidRequestObject(`Request Object is missing the '${claim}' claim`);
          }
        }
        const scope = String(payload.scope || '').split(' ');
        if (!scope.includes('openid')) throw new errors.InvalidScope('openid scope missing', 'openid');
        const services = scope.filter((s) => s.startsWith('service:'));
        if (services.length !== 1 || !serviceScopes.includes(services[0])) {
          throw new errors.InvalidScope('exactly one known service:<CODE> scope is required', services.join(' '));
        }
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (ctx, id) => {
    const data = accounts[id];
    if (!data) return undefined;
    return { accountId: id, claims: () => ({ sub: id, ...structuredClone(data) }) };
  },
  // itsme sends no refresh tokens; its nested tokens live 5 minutes.
  ttl: {
    AccessToken: 300, AuthorizationCode: 180, IdToken: 300, Grant: 300, Interaction: 600, Session: 600,
  },
  // oidc-provider 9 refuses to fetch from loopback addresses; the
  // bridge's JWKS is on 127.0.0.1.
  fetch: (url, options) => {
    const opts = { ...options };
    delete opts.dispatcher;
    return globalThis.fetch(url, opts);
  },
  renderError: (ctx, out) => {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>OP error</title><p>${escape(out.error)}: ${escape(out.error_description || '')}</p>`;
  },
});

provider.on('authorization.error', (ctx, err) => log('authorization.error', err));
provider.on('grant.error', (ctx, err) => log('grant.error', err));
provider.on('userinfo.error', (ctx, err) => log('userinfo.error', err));
provider.on('server_error', (ctx, err) => log('server_error', err));
provider.on('grant.success', () => log('grant.success'));
provider.on('authorization.success', () => log('authorization.success'));

function log(event, err) {
  const detail = err ? ` ${err.error || err.name}: ${err.error_description || err.message}${err.cause ? ` (cause: ${err.cause.message})` : ''}` : '';
  process.stdout.write(`oidc-op: ${event}${detail}\n`);
}

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The claim names a claims parameter asks for, in both members.
function requestedClaims(params) {
  if (!params.claims) return [];
  const c = typeof params.claims === 'string' ? JSON.parse(params.claims) : params.claims;
  return [...new Set([...Object.keys(c.id_token || {}), ...Object.keys(c.userinfo || {})])];
}

// The acr of the login: advanced when the request asks for it, else basic.
function acrFor(params) {
  const asked = String(params.acr_values || '').split(' ');
  if (asked.includes(ACR_ADVANCED)) return ACR_ADVANCED;
  try {
    const c = typeof params.claims === 'string' ? JSON.parse(params.claims) : params.claims || {};
    const acr = c.id_token?.acr;
    if (acr?.value === ACR_ADVANCED || acr?.values?.includes(ACR_ADVANCED)) return ACR_ADVANCED;
  } catch { /* the provider validated the claims parameter already */ }
  return ACR_BASIC;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 << 10) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction uid mismatch');
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><html><head><title>itsme-like OP</title></head><body>
<p>Approve the login of Maxence Legrand for ${escape(details.params.client_id)}?</p>
<form method="post" action="/interaction/${escape(uid)}">
<input type="hidden" name="login" value="maxence">
</form></body></html>`);
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'GET, POST' });
    res.end();
    return;
  }
  const form = await readForm(req);
  const accountId = form.get('login');
  if (!accounts[accountId]) {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'unknown user' }, { mergeWithLastSubmission: false });
    return;
  }
  const { params } = details;
  const grant = new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope || 'openid'));
  const names = requestedClaims(params);
  if (names.length) grant.addOIDCClaims(names);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: {
      accountId, acr: acrFor(params), amr: ['mob'], remember: false,
    },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(req.url.split('?')[0]);
  if (!m) {
    callback(req, res);
    return;
  }
  interaction(req, res, m[1]).catch((err) => {
    log('interaction.error', err);
    if (!res.headersSent) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    }
    res.end(`interaction failed: ${err.message}\n`);
  });
});
server.listen(cfg.port, '127.0.0.1', () => {
  process.stdout.write(`oidc-op: oidc-provider ${version} listening at ${cfg.issuer}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
