// The ECS requests the AWS SDK for JavaScript v3 (@aws-sdk/client-ecs, pinned in package.json)
// serializes and signs, for src/aws/ecs_client_sdk_test.cc to compare with Outpost's own.
//
// Usage: node tests/aws/ecs_requests.js CASES.json
// CASES.json: [{"region", "endpoint" (or null), "accessKeyId", "secretAccessKey",
//               "sessionToken" (or null), "signingDate" (ISO 8601), "op" ("RunTask",
//               "DescribeTasks", "StopTask", "ListTasks"), "input": {...the command's input}}]
// Prints one JSON line per case: {"method", "path", "headers": {lowercase name: value}, "body"}.
//
// The clock is fixed (Date is replaced before the SDK is loaded), the SDK's own amz-sdk-*
// headers (invocation id, retry info) and its user-agent headers are removed before signing (a
// middleware just before httpSigningMiddleware), and the request never leaves the process (a
// request handler captures the signed request and answers 200 {}).
'use strict';

const fs = require('fs');
const { Readable } = require('stream');

const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
let fixedNow = 0;
const RealDate = Date;
global.Date = class extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(fixedNow);
    else super(...args);
  }
  static now() {
    return fixedNow;
  }
};

const ecs = require('@aws-sdk/client-ecs');

async function main() {
  for (const c of cases) {
    fixedNow = RealDate.parse(c.signingDate);
    let captured = null;
    const client = new ecs.ECSClient({
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
          return {
            response: {
              statusCode: 200,
              headers: { 'content-type': 'application/x-amz-json-1.1' },
              body: Readable.from([Buffer.from('{}')]),
            },
          };
        },
      },
    });
    client.middlewareStack.addRelativeTo(
      (next) => async (args) => {
        for (const name of Object.keys(args.request.headers)) {
          const lower = name.toLowerCase();
          if (lower.startsWith('amz-sdk-') || lower === 'user-agent' ||
              lower === 'x-amz-user-agent') {
            delete args.request.headers[name];
          }
        }
        return next(args);
      },
      { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'outpostStripSdkHeaders' },
    );
    await client.send(new ecs[c.op + 'Command'](c.input));
    const headers = {};
    for (const [k, v] of Object.entries(captured.headers)) headers[k.toLowerCase()] = String(v);
    process.stdout.write(JSON.stringify({
      method: captured.method,
      path: captured.path,
      headers,
      body: typeof captured.body === 'string' ? captured.body : String(captured.body),
    }) + '\n');
  }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
