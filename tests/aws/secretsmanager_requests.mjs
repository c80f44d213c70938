// GetSecretValue requests as the AWS SDK for JavaScript v3 (@aws-sdk/client-secrets-manager,
// pinned in package.json) signs them, for src/aws/secretsmanager_sdk_test.cc to compare with
// Outpost's own (src/aws/secretsmanager_client.h) header for header and byte for byte.
//
// Usage: node tests/aws/secretsmanager_requests.mjs CASES.json
// CASES.json: [{"region", "endpoint" (or null for AWS), "accessKeyId", "secretAccessKey",
//               "sessionToken" (or null), "secretId", "versionId" (or null),
//               "versionStage" (or null), "signingDate" (ISO 8601)}, ...]
// Prints one JSON object per case and line: {"method", "url", "headers": {lower-cased name:
// value}, "body"}. Nothing is sent: the request handler records the signed request and fails.
//
// What is taken out before signing, because it is the SDK's own telemetry and not the API:
// amz-sdk-invocation-id, amz-sdk-request (retry bookkeeping), x-amz-user-agent and user-agent
// (its version string). The signing time is fixed by replacing Date.now while the command runs
// (the signer's "now" is Date.now() plus a systemClockOffset of 0).
import fs from 'node:fs';
import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';

const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

for (const c of cases) {
  let captured = null;
  const client = new SecretsManagerClient({
    region: c.region,
    endpoint: c.endpoint || undefined,
    credentials: {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken || undefined,
    },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request) => {
        captured = request;
        throw new Error('outpost-captured');  // nothing is sent; send() rejects with this
      },
    },
  });
  // Fixed clock: the signer's date is Date.now() (+ systemClockOffset, 0).
  const fixed = Date.parse(c.signingDate);
  const realNow = Date.now;
  Date.now = () => fixed;
  client.config.systemClockOffset = 0;
  client.middlewareStack.addRelativeTo(
    (next) => async (args) => {
      for (const name of Object.keys(args.request.headers)) {
        const lower = name.toLowerCase();
        if (lower.startsWith('amz-sdk-') || lower === 'x-amz-user-agent' || lower === 'user-agent') {
          delete args.request.headers[name];
        }
      }
      return next(args);
    },
    { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'outpostStripSdkHeaders' },
  );
  const input = { SecretId: c.secretId };
  if (c.versionId) input.VersionId = c.versionId;
  if (c.versionStage) input.VersionStage = c.versionStage;
  try {
    await client.send(new GetSecretValueCommand(input));
  } catch (err) {
    if (err.message !== 'outpost-captured') throw err;
  }
  Date.now = realNow;
  const headers = {};
  for (const [k, v] of Object.entries(captured.headers)) headers[k.toLowerCase()] = String(v);
  const port = captured.port ? `:${captured.port}` : '';
  process.stdout.write(JSON.stringify({
    method: captured.method,
    url: `${captured.protocol}//${captured.hostname}${port}${captured.path}`,
    headers,
    body: typeof captured.body === 'string' ? captured.body : Buffer.from(captured.body).toString(),
  }) + '\n');
}
