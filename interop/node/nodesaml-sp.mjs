// nodesaml-sp.mjs is the "SP application" for the interop suite's
// node-saml peer: a tiny HTTP server around @node-saml/node-saml.
//
//   GET  /metadata  the SP's own metadata (signing + encryption key)
//   GET  /login     AuthnRequest (Redirect binding), request ID kept in a
//                   server-side session keyed by a cookie
//   POST /acs       validatePostResponseAsync; 302 to /whoami, or 403 with
//                   node-saml's error message
//   GET  /whoami    the identity node-saml extracted, as JSON; 401 if none
//
// Configuration comes from the environment (see need() below); the Go side
// (interop/sp_nodesaml.go) writes the keys and the IdP certificate.
import { SAML, ValidateInResponseTo } from "@node-saml/node-saml";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { inflateRawSync } from "node:zlib";

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`nodesaml-sp: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const port = Number(need("NODESAML_PORT"));
const base = `http://127.0.0.1:${port}`;
const issuer = `${base}/metadata`;
const spKey = readFileSync(need("NODESAML_SP_KEY"), "utf8");
const spCert = readFileSync(need("NODESAML_SP_CERT"), "utf8");
const idpCert = readFileSync(need("NODESAML_IDP_CERT"), "utf8");

// node-saml's InResponseTo cache, with the default in-memory provider's
// semantics made explicit so that the suite does not depend on defaults.
const cache = new Map();
const cacheProvider = {
  async saveAsync(key, value) {
    if (cache.has(key)) return null;
    const item = { value, createdAt: Date.now() };
    cache.set(key, item);
    return item;
  },
  async getAsync(key) {
    const item = cache.get(key);
    if (!item) return null;
    if (Date.now() - item.createdAt > 10 * 60 * 1000) {
      cache.delete(key);
      return null;
    }
    return item.value;
  },
  async removeAsync(key) {
    if (key == null || !cache.has(key)) return null;
    cache.delete(key);
    return key;
  },
};

// Defaults kept on purpose: identifierFormat (emailAddress, AllowCreate)
// and RequestedAuthnContext (PasswordProtectedTransport, exact).
const saml = new SAML({
  callbackUrl: `${base}/acs`,
  entryPoint: need("NODESAML_IDP_SSO_URL"),
  issuer,
  audience: issuer,
  idpIssuer: need("NODESAML_IDP_ENTITY_ID"),
  idpCert,
  privateKey: spKey,
  publicCert: spCert,
  decryptionPvk: spKey,
  signatureAlgorithm: "sha256",
  digestAlgorithm: "sha256",
  wantAssertionsSigned: true,
  wantAuthnResponseSigned: false,
  validateInResponseTo: ValidateInResponseTo.always,
  requestIdExpirationPeriodMs: 10 * 60 * 1000,
  cacheProvider,
  acceptedClockSkewMs: 5000,
});

// sessions: cookie value -> { requestID, identity }
const sessions = new Map();
const cookieName = "nodesaml_sid";

function session(req, res) {
  const m = /(?:^|;\s*)nodesaml_sid=([A-Za-z0-9_-]+)/.exec(req.headers.cookie || "");
  if (m && sessions.has(m[1])) return sessions.get(m[1]);
  const sid = randomBytes(18).toString("base64url");
  const s = {};
  sessions.set(sid, s);
  res.setHeader("Set-Cookie", `${cookieName}=${sid}; Path=/; HttpOnly; SameSite=None`);
  return s;
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...headers });
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > 4 << 20) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

// requestID reads the ID of the AuthnRequest node-saml put in the URL.
function requestID(location) {
  const raw = new URL(location).searchParams.get("SAMLRequest");
  const xml = inflateRawSync(Buffer.from(raw, "base64")).toString("utf8");
  const m = /<samlp:AuthnRequest\b[^>]*\sID="([^"]+)"/.exec(xml);
  if (!m) throw new Error("no ID in the AuthnRequest node-saml produced");
  return m[1];
}

function asStrings(v) {
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (x == null ? "" : typeof x === "string" ? x : JSON.stringify(x)));
}

// metadata is node-saml's own SP metadata, as it generates it. It requests
// no attributes; the bridge is configured to release this SP's attributes
// anyway (the per-SP "release" setting).
function metadata() {
  return saml.generateServiceProviderMetadata(spCert, spCert);
}

async function handle(req, res) {
  const url = new URL(req.url, base);
  if (req.method === "GET" && url.pathname === "/metadata") {
    return send(res, 200, "application/samlmetadata+xml", metadata());
  }
  if (req.method === "GET" && url.pathname === "/login") {
    const s = session(req, res);
    const location = await saml.getAuthorizeUrlAsync("", undefined, {});
    s.requestID = requestID(location);
    s.identity = undefined;
    return send(res, 302, "text/plain", "", { Location: location });
  }
  if (req.method === "POST" && url.pathname === "/acs") {
    const s = session(req, res);
    const form = new URLSearchParams(await readBody(req));
    const expected = s.requestID;
    s.requestID = undefined;
    let profile;
    try {
      const samlResponse = form.get("SAMLResponse");
      if (!samlResponse) throw new Error("no SAMLResponse in the form");
      ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse }));
      if (!profile) throw new Error("node-saml returned no profile");
      if (!expected || profile.inResponseTo !== expected) {
        throw new Error("the response answers no request of this browser session");
      }
    } catch (err) {
      console.error(`nodesaml-sp: response rejected: ${err.message}`);
      return send(res, 403, "text/plain; charset=utf-8", `rejected: ${err.message}\n`);
    }
    const attributes = {};
    for (const [name, v] of Object.entries(profile.attributes || {})) attributes[name] = asStrings(v);
    s.identity = { nameID: profile.nameID, nameIDFormat: profile.nameIDFormat, attributes };
    console.error(`nodesaml-sp: accepted a response for ${profile.nameIDFormat}, attributes: ${Object.keys(attributes).join(", ")}`);
    return send(res, 302, "text/plain", "", { Location: "/whoami" });
  }
  if (req.method === "GET" && url.pathname === "/whoami") {
    const s = session(req, res);
    if (!s.identity) return send(res, 401, "text/plain; charset=utf-8", "not logged in\n");
    return send(res, 200, "application/json", JSON.stringify(s.identity));
  }
  return send(res, 404, "text/plain; charset=utf-8", "not found\n");
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(`nodesaml-sp: ${req.method} ${req.url.split("?")[0]}: ${err.stack || err}`);
    if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
  });
});
server.listen(port, "127.0.0.1", () => console.error(`nodesaml-sp: listening on ${base}`));
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
