//! The wasm floor for any component: answer `["value1","value2"]` with no work at all,
//! straight through the `wasi` crate's wasi:http bindings.

#[cfg(target_arch = "wasm32")]
mod component {
    use wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

    struct Hello;

    impl wasi::exports::http::incoming_handler::Guest for Hello {
        fn handle(_request: IncomingRequest, out: ResponseOutparam) {
            let headers = Fields::from_list(&[("content-type".to_string(), b"application/json".to_vec())])
                .unwrap_or_else(|_| Fields::new());
            let response = OutgoingResponse::new(headers);
            let Ok(body) = response.body() else { return };
            ResponseOutparam::set(out, Ok(response));
            if let Ok(stream) = body.write() {
                let _ = stream.blocking_write_and_flush(br#"["value1","value2"]"#);
                drop(stream);
            }
            let _ = OutgoingBody::finish(body, None);
        }
    }

    wasi::http::proxy::export!(Hello with_types_in wasi);
}
