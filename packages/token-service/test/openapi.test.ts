import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@pushprov/protocol';
import { createTokenService, createTokenServiceApp, silentLogger } from '../src/index.js';
import { createFixture } from './helpers.js';
import { createOpenApiDocument } from './openapi-document.js';

const FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

describe('openapi.json', () => {
  it('equals the document generated from the protocol schemas', () => {
    const generated = createOpenApiDocument();
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(FILE, `${JSON.stringify(generated, null, 2)}\n`);
    expect(JSON.parse(readFileSync(FILE, 'utf8'))).toEqual(generated);
  });

  it('documents exactly the routes the app serves', async () => {
    const fx = await createFixture();
    const app = createTokenServiceApp(createTokenService(fx.config, undefined, { configOptions: { env: {} } }), { logger: silentLogger });
    const doc = JSON.parse(readFileSync(FILE, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) {
        const response = await app.fetch(new Request(`http://localhost${path.replace('{tokenReferenceId}', 'tok_x')}`, { method: method.toUpperCase() }));
        // Without credentials the authenticated routes answer 401; the others 200. A missing route would be 404.
        expect([200, 401]).toContain(response.status);
      }
    }
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/.well-known/jwks.json',
      '/health',
      '/health/ready',
      '/openapi.json',
      '/v1/issuer/tokens/{tokenReferenceId}',
      '/v1/issuer/tokens/{tokenReferenceId}/activation',
      '/v1/provisioning-requests',
      '/v1/tokens/{tokenReferenceId}',
      '/v1/tokens/{tokenReferenceId}/activation',
      '/v1/tokens/{tokenReferenceId}/verification',
    ]);
  });

  it('lists every protocol error code in the problem schema', () => {
    const doc = JSON.parse(readFileSync(FILE, 'utf8')) as { components: { schemas: { ProblemDetails: { properties: { code: { enum: string[] } } } } } };
    expect(doc.components.schemas.ProblemDetails.properties.code.enum).toEqual(ERROR_CODES);
  });
});
