//! The native ceiling for the throughput comparison: the same `certgate::service::handle`
//! behind hyper, configuration from `CERTGATE_<NAME>` environment variables read once per
//! request from a map (as the component rereads its variables per request).
//! Usage: certgate-native 127.0.0.1:PORT

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3100".into());
    let vars: HashMap<String, String> = certgate::vars::VARS
        .iter()
        .map(|v| v.name)
        .filter_map(|name| {
            std::env::var(format!("CERTGATE_{}", name.to_ascii_uppercase())).ok().map(|v| (name.to_string(), v))
        })
        .collect();
    let vars = Arc::new(vars);
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("certgate-native listening on http://{addr}");
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let vars = vars.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let vars = vars.clone();
                async move {
                    let headers: Vec<(String, Vec<u8>)> =
                        req.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec())).collect();
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs() as i64)
                        .unwrap_or(0);
                    let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
                    let outcome = certgate::service::handle(req.method().as_str(), path, &headers, vars.as_ref(), now);
                    for line in &outcome.logs {
                        eprintln!("{}", line.render());
                    }
                    let mut response = hyper::Response::new(Full::new(Bytes::from(outcome.response.body)));
                    *response.status_mut() = hyper::StatusCode::from_u16(outcome.response.status)
                        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
                    for (name, value) in outcome.response.headers {
                        if let (Ok(n), Ok(v)) = (
                            hyper::header::HeaderName::try_from(name.as_ref()),
                            hyper::header::HeaderValue::from_str(&value),
                        ) {
                            response.headers_mut().append(n, v);
                        }
                    }
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
