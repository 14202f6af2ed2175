// A real OpenID Connect provider for the sign-in tests (tests/oidc/provider.py starts it).
//
// node provider.mjs <port> <clients.json>: oidc-provider on 127.0.0.1:<port> with the
// clients the suite registers, its development login and consent forms (any login is
// accepted; the account's id is the login), and fresh keys per run: RS256 and ES256.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const [port, clientsFile] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(readFileSync(clientsFile, 'utf8'));

function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `${alg}-test` };
}

const provider = new Provider(issuer, {
  clients,
  jwks: {
    keys: [
      signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
      signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    ],
  },
  cookies: { keys: ['a cookie key the test provider uses'] },
  pkce: { required: () => true },
  // The claims of the requested scopes go into the ID token itself, as Keycloak puts them.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'roles'],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: `${id} tester`,
          email: `${id}@example.org`,
          email_verified: true,
          roles: id === 'admin' ? ['staff', 'admin'] : ['staff'],
        };
      },
    };
  },
});

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
