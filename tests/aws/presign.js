// Presigned S3 GET URLs made by the AWS SDK for JavaScript v3, for src/aws/presign_sdk_test.cc
// to compare with Outpost's own byte for byte.
//
// Usage: node tests/aws/presign.js CASES.json
// CASES.json: [{"region", "endpoint" (or null for AWS), "pathStyle", "accessKeyId",
//               "secretAccessKey", "sessionToken" (or null), "bucket", "key", "expiresIn",
//               "signingDate" (ISO 8601)}, ...]
// Prints one URL per case, in order.
'use strict';

const fs = require('fs');
const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3');
const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  for (const c of cases) {
    const client = new S3Client({
      region: c.region,
      endpoint: c.endpoint || undefined,
      forcePathStyle: c.pathStyle,
      // Keeps the SDK from adding checksum parameters (x-amz-checksum-mode, x-amz-checksum-crc32),
      // options of its own that Outpost does not use.
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestChecksumCalculation: 'WHEN_REQUIRED',
      credentials: {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken || undefined,
      },
    });
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: c.bucket, Key: c.key }), {
      expiresIn: c.expiresIn,
      signingDate: new Date(c.signingDate),
    });
    process.stdout.write(url + '\n');
  }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
