// The JavaScript app tests/compose.rs composes behind certgate (not certgate): exports
// wasi:http/incoming-handler@0.2.0 directly (not StarlingMonkey's fetch-event), so header
// lines keep their order and duplicates. Answers every request with 200 and JSON about it.
import {
  Fields,
  OutgoingBody,
  OutgoingResponse,
  ResponseOutparam,
} from 'wasi:http/types@0.2.0';

const dec = new TextDecoder();
const enc = new TextEncoder();
const dispose = (r) => r[Symbol.dispose || Symbol.for('dispose')]?.();

function handle(request, responseOut) {
  const m = request.method();
  const method = m.tag === 'other' ? m.val : m.tag.toUpperCase();
  const path = request.pathWithQuery() ?? null;
  const fields = request.headers();
  const headers = fields.entries().map(([n, v]) => [n, dec.decode(v)]);
  dispose(fields);

  let bodyBytes = 0;
  const body = request.consume();
  const stream = body.stream();
  for (;;) {
    let chunk;
    try {
      chunk = stream.blockingRead(65536n);
    } catch (e) {
      if (e?.payload?.tag === 'closed') break;
      throw e;
    }
    bodyBytes += chunk.length;
  }
  dispose(stream);
  dispose(body);

  const out = enc.encode(JSON.stringify({
    app: 'javascript',
    method,
    path_with_query: path,
    headers,
    body_bytes: bodyBytes,
  }));

  const response = new OutgoingResponse(Fields.fromList([
    ['content-type', enc.encode('application/json')],
    ['content-length', enc.encode(String(out.length))],
  ]));
  response.setStatusCode(200);
  const responseBody = response.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
  const w = responseBody.write();
  // blocking-write-and-flush accepts at most 4096 bytes per call
  for (let i = 0; i < out.length; i += 4096) w.blockingWriteAndFlush(out.subarray(i, i + 4096));
  dispose(w);
  OutgoingBody.finish(responseBody, undefined);
}

export const incomingHandler = { handle };
