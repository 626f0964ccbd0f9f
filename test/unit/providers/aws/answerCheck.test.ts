/**
 * A 2xx that is not EC2's XML for the action (an empty body, a proxy's well-formed HTML page) must
 * not read as an empty answer: the SDK alone parses both into an output with no instances, which
 * would tell a reconciler the instance is gone. Real HTTP, the unmodified SDK, the adapter's client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { isEc2Answer } from '../../../../src/providers/aws/answerCheck.js';
import { AwsCredential, type AwsCredentialOptions } from '../../../../src/providers/aws/index.js';
import { ServiceUnavailableError } from '../../../../src/providers/sdk/errors.js';
import { writeReplicaCatalog } from '../../../replicas/aws/catalog.js';

let answer = { type: 'text/html', body: '' };
let server: http.Server;
let url = '';
before(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': answer.type, 'content-length': Buffer.byteLength(answer.body) }).end(answer.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const client = () =>
  new AwsCredential({
    refId: 'check',
    regions: ['us-east-1'],
    keys: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    endpoint: url,
    catalogFile: writeReplicaCatalog(mkdtempSync(join(tmpdir(), 'gpuflow-aws-check-'))),
  } as AwsCredentialOptions).makeClient('');

it('recognises the root element of an action’s answer', () => {
  assert.ok(isEc2Answer('<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">', 'DescribeInstances'));
  assert.ok(isEc2Answer('<DescribeInstancesResponse/>', 'DescribeInstances'));
  assert.ok(!isEc2Answer('<?xml version="1.0"?><RunInstancesResponse>', 'DescribeInstances'));
  assert.ok(!isEc2Answer('<html><body>ok</body></html>', 'DescribeInstances'));
  assert.ok(!isEc2Answer('', 'DescribeInstances'));
});

for (const [what, a] of [
  ['an empty 200', { type: 'text/xml', body: '' }],
  ['a well-formed HTML page with 200', { type: 'text/html', body: '<html><head><title>Maintenance</title></head><body><p>Back soon</p></body></html>' }],
  ['another action’s answer', { type: 'text/xml', body: '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>x</requestId></DescribeRegionsResponse>' }],
] as const) {
  it(`${what} is a retryable ServiceUnavailableError, not an empty instance list`, async () => {
    answer = a;
    await assert.rejects((await client()).listInstances({}), (e: unknown) => {
      assert.ok(e instanceof ServiceUnavailableError, String(e));
      assert.match(e.message, /aws us-east-1 DescribeInstances: unreadable answer: NotAnEc2Answer/);
      return true;
    });
  });
}
