/**
 * A check the SDK does not make: that a 2xx answer is EC2's XML for the action asked. The SDK
 * parses whatever comes back with the XML parser and reads the fields it finds, so an empty body,
 * or a proxy's well-formed HTML page, reads as an answer with nothing in it: an empty instance
 * list, which a reconciler would take for "the instance is gone". EC2 answers every action with
 * `<ActionResponse xmlns=…>` (after the XML declaration); anything else is refused here, before
 * the SDK's deserializer sees it, and ./http.ts maps that to a retryable ServiceUnavailableError.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { bodySnippet } from '../http/request.js';

/** The error this check throws; `$metadata` as the SDK's own errors carry it, so the mapping sees the status. */
export class NotAnEc2Answer extends Error {
  override readonly name = 'NotAnEc2Answer';
  constructor(
    message: string,
    readonly $metadata: { httpStatusCode: number },
  ) {
    super(message);
  }
}

/** Whether `text` opens with the root element of `action`'s answer. */
export function isEc2Answer(text: string, action: string): boolean {
  return new RegExp(`^\\s*(?:<\\?xml[^>]*\\?>\\s*)?<${action}Response[\\s>/]`).test(text);
}

async function bytesOf(body: unknown): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  const chunks: Uint8Array[] = [];
  if (body && typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof c === 'string' ? new TextEncoder().encode(c) : c);
  }
  return Buffer.concat(chunks);
}

/** Installs the check on a client: every 2xx body is read, checked, and handed on as bytes. */
export function checkEc2Answers(client: EC2Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const res = out.response as { statusCode?: number; body?: unknown };
      if (typeof res?.statusCode === 'number' && res.statusCode >= 200 && res.statusCode < 300) {
        const bytes = await bytesOf(res.body);
        res.body = bytes;
        const action = String(context.commandName ?? '').replace(/Command$/, '');
        const text = new TextDecoder().decode(bytes.subarray(0, 4096));
        if (action && !isEc2Answer(text, action)) {
          throw new NotAnEc2Answer(`the answer is not EC2's ${action}Response XML: ${bodySnippet(text) || '(empty body)'}`, { httpStatusCode: res.statusCode });
        }
      }
      return out;
    },
    // Low priority in the deserialize step: inside the SDK's deserializer, so this sees the raw response.
    { step: 'deserialize', priority: 'low', name: 'gpuflowEc2AnswerCheck' },
  );
}
