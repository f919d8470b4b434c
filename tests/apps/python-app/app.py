"""The Python app tests/compose.rs composes behind certgate (not certgate), built with
componentize-py: exports wasi:http/incoming-handler@0.2.0 and answers every request with 200
and JSON describing what it received.
"""
import json

from wit_world import exports
from wit_world.imports.types import (
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
    Method_Other,
)
from wit_world.imports.streams import StreamError_Closed
from componentize_py_types import Ok, Err


def _method(m) -> str:
    if isinstance(m, Method_Other):
        return m.value
    return type(m).__name__.removeprefix("Method_").upper()


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
        method = _method(request.method())
        path = request.path_with_query()
        with request.headers() as fields:
            headers = [[n, v.decode("utf-8", "replace")] for n, v in fields.entries()]

        body_bytes = 0
        body = request.consume()
        with body.stream() as stream:
            while True:
                try:
                    body_bytes += len(stream.blocking_read(65536))
                except Err as e:
                    if isinstance(e.value, StreamError_Closed):
                        break
                    raise
        body.__exit__(None, None, None)  # drop incoming-body

        out = json.dumps({
            "app": "python",
            "method": method,
            "path_with_query": path,
            "headers": headers,
            "body_bytes": body_bytes,
        }).encode()

        response = OutgoingResponse(Fields.from_list([
            ("content-type", b"application/json"),
            ("content-length", str(len(out)).encode()),
        ]))
        response.set_status_code(200)
        response_body = response.body()
        ResponseOutparam.set(response_out, Ok(response))
        with response_body.write() as w:
            # blocking-write-and-flush accepts at most 4096 bytes per call
            for i in range(0, len(out), 4096):
                w.blocking_write_and_flush(out[i:i + 4096])
        OutgoingBody.finish(response_body, None)
