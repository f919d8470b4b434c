//! Minimal reproduction of a Spin keep-alive stall (docs/reports/spin-upstream.md).
//!
//! `GET /?vars=N&body=after|before` reads the variables `v1` .. `vN` through
//! `wasi:config/store` (N at most 8; `read=all` instead reads all eight with one `get-all`),
//! then answers 19 bytes of JSON:
//!
//! - `body=after` (the default): the response is handed to the host first and its body
//!   written after, as most guests and SDKs do;
//! - `body=before`: the body is written and finished before the response is handed over.
//!
//! Under `spin up`, with the variables resolved by the environment provider, `vars=1` or
//! more with `body=after` makes every other response on a keep-alive connection wait about
//! 40 ms (the second TCP segment waits for the client's delayed ACK). `vars=0`, or
//! `body=before`, or the values given with `--variable`, do not. `log=1` also writes a
//! log line of certgate's size to stderr (what one costs under `spin up`).

#[cfg(target_arch = "wasm32")]
mod component {
    use ::wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

    mod config {
        wit_bindgen::generate!({ world: "spin-repro", path: "wit", generate_all });
    }
    use config::wasi::config::store;

    const BODY: &[u8] = br#"["value1","value2"]"#;
    const NAMES: [&str; 8] = ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"];

    struct Repro;

    fn query(request: &IncomingRequest) -> (usize, bool, bool) {
        let path = request.path_with_query().unwrap_or_default();
        let query = path.split_once('?').map(|(_, q)| q).unwrap_or("");
        let mut vars = 0;
        let mut before = false;
        let mut all = false;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("vars", n)) => vars = n.parse::<usize>().unwrap_or(0).min(NAMES.len()),
                Some(("body", "before")) => before = true,
                Some(("read", "all")) => all = true,
                Some(("log", "1")) => {
                    use std::io::Write;
                    let line = concat!(
                        r#"{"level":"info","event":"request","reason":"allowed","#,
                        r#""detail":"a log line of about the size certgate writes per request","path":"/api/values"}"#,
                        "\n"
                    );
                    let _ = std::io::stderr().write_all(line.as_bytes());
                }
                _ => {}
            }
        }
        (vars, before, all)
    }

    fn write_body(body: &OutgoingBody) {
        if let Ok(stream) = body.write() {
            let _ = stream.blocking_write_and_flush(BODY);
        }
    }

    impl ::wasi::exports::http::incoming_handler::Guest for Repro {
        fn handle(request: IncomingRequest, out: ResponseOutparam) {
            let (vars, before, all) = query(&request);
            let mut found = 0usize;
            if all {
                // One host call for every variable of the component.
                if let Ok(values) = store::get_all() {
                    found = values.len();
                }
            } else {
                for name in &NAMES[..vars] {
                    if let Ok(Some(_)) = store::get(name) {
                        found += 1;
                    }
                }
            }
            let headers = Fields::from_list(&[
                ("content-type".to_string(), b"application/json".to_vec()),
                ("x-variables-found".to_string(), found.to_string().into_bytes()),
            ])
            .unwrap_or_else(|_| Fields::new());
            let response = OutgoingResponse::new(headers);
            let Ok(body) = response.body() else { return };
            if before {
                write_body(&body);
                let _ = OutgoingBody::finish(body, None);
                ResponseOutparam::set(out, Ok(response));
            } else {
                ResponseOutparam::set(out, Ok(response));
                write_body(&body);
                let _ = OutgoingBody::finish(body, None);
            }
        }
    }

    ::wasi::http::proxy::export!(Repro with_types_in ::wasi);
}
