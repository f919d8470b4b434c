//! `service = gateway` on `wasi:http/outgoing-handler`: send the [`Forward`] that
//! [`crate::gateway`] decided on, stream the request body up and the response body down
//! (64 KiB at a time, never the whole body in memory), and turn every failure into the
//! reason [`Forward`] words.
//!
//! Every wait is bounded by certgate's own timers (`upstream_timeout_seconds` without
//! progress), not only by the host's request options, which not every host honours. A
//! peer that keeps making progress, however slowly, is not cut off: the terminator's and
//! the host's own limits bound a whole request.

use ::wasi::clocks::monotonic_clock;
use ::wasi::io::poll::{poll, Pollable};
use ::wasi::io::streams::{InputStream, OutputStream, StreamError};
use spin_sdk::http::{
    ErrorCode, Fields, IncomingRequest, Method, OutgoingBody, OutgoingRequest, OutgoingResponse, ResponseOutparam,
    Scheme,
};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{FutureIncomingResponse, IncomingResponse, RequestOptions};

use crate::gateway::{Forward, UpstreamFailure};
use crate::log::LogLine;

/// The most read or written in one step.
const CHUNK: u64 = 64 * 1024;

fn method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_string()),
    }
}

/// Fields from header lines; a line the host refuses (a name it forbids) is left out and
/// named in the returned list.
fn fields(lines: &[(String, Vec<u8>)]) -> (Fields, Vec<String>) {
    let fields = Fields::new();
    let mut refused = Vec::new();
    for (name, value) in lines {
        if fields.append(name, value).is_err() {
            refused.push(name.clone());
        }
    }
    (fields, refused)
}

/// An error code as a failure: timeouts are `504`, everything else `502`.
fn failure(code: &ErrorCode) -> UpstreamFailure {
    let text = format!("{code:?}");
    match code {
        ErrorCode::DnsTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => UpstreamFailure::Timeout(text),
        _ => UpstreamFailure::Unavailable(text),
    }
}

/// How the request body went up.
enum Upload {
    /// All of it, and the body finished.
    Done,
    /// The upstream answered (or failed) before taking all of it.
    Answered,
    /// It grew past the limit.
    TooLarge,
    /// Nothing moved for the timeout.
    Stalled,
    /// The client's body broke off.
    ClientFailed(String),
}

/// A timer pollable for `ns` nanoseconds from now.
fn timer(ns: u64) -> Pollable {
    monotonic_clock::subscribe_duration(ns)
}

/// Flush `output`, waiting at most `ns` for the other side to take what is buffered.
fn flush_within(output: &OutputStream, ready: &Pollable, ns: u64) -> Result<(), String> {
    output.flush().map_err(|e| format!("{e:?}"))?;
    let stall = timer(ns);
    if poll(&[ready, &stall]).contains(&1) {
        return Err(format!("nothing was taken for {} s", ns / 1_000_000_000));
    }
    output.check_write().map(|_| ()).map_err(|e| format!("{e:?}"))
}

/// Copy the client's body to the upstream request's body, within the limit, while watching
/// the response: an upstream that answers early (a `413` of its own) is not held up.
fn upload(
    input: &InputStream,
    output: &OutputStream,
    response: &FutureIncomingResponse,
    first: Vec<u8>,
    max_bytes: u64,
    stall_ns: u64,
) -> Upload {
    let readable = input.subscribe();
    let writable = output.subscribe();
    let answered = response.subscribe();
    let mut sent: u64 = first.len() as u64;
    let mut pending: Vec<u8> = first;
    let mut stall = timer(stall_ns);
    loop {
        if pending.is_empty() {
            match input.read(CHUNK) {
                Ok(chunk) if chunk.is_empty() => {}
                Ok(chunk) => {
                    sent = sent.saturating_add(chunk.len() as u64);
                    if sent > max_bytes {
                        return Upload::TooLarge;
                    }
                    pending = chunk;
                    stall = timer(stall_ns);
                }
                Err(StreamError::Closed) => {
                    return match flush_within(output, &writable, stall_ns) {
                        Ok(()) => Upload::Done,
                        // The upstream stopped taking the body: what it answered says why.
                        Err(_) => Upload::Answered,
                    };
                }
                Err(StreamError::LastOperationFailed(e)) => return Upload::ClientFailed(e.to_debug_string()),
            }
        }
        if !pending.is_empty() {
            match output.check_write() {
                Ok(0) => {}
                Ok(n) => {
                    let take = pending.len().min(usize::try_from(n).unwrap_or(usize::MAX));
                    if output.write(&pending[..take]).is_err() {
                        return Upload::Answered;
                    }
                    pending.drain(..take);
                    stall = timer(stall_ns);
                    continue;
                }
                // The upstream stopped taking the body: what it answered says why.
                Err(_) => return Upload::Answered,
            }
        }
        let waiting_on = if pending.is_empty() { &readable } else { &writable };
        let ready = poll(&[waiting_on, &answered, &stall]);
        if ready.contains(&1) {
            return Upload::Answered;
        }
        if ready.contains(&2) {
            return Upload::Stalled;
        }
    }
}

/// The first piece of the client's body, or `None` when it has none, before the request
/// goes upstream: a request known to be empty is sent with its body finished, so the host
/// writes it whole (headers and the end of the body in one write; written apart, the end
/// waits for the upstream's delayed ACK, about 40 ms on Linux).
fn first_piece(input: &InputStream, max_bytes: u64, stall_ns: u64) -> Result<Option<Vec<u8>>, Upload> {
    let readable = input.subscribe();
    let stall = timer(stall_ns);
    loop {
        match input.read(CHUNK) {
            Ok(chunk) if chunk.is_empty() => {
                if poll(&[&readable, &stall]).contains(&1) {
                    return Err(Upload::Stalled);
                }
            }
            Ok(chunk) if chunk.len() as u64 > max_bytes => return Err(Upload::TooLarge),
            Ok(chunk) => return Ok(Some(chunk)),
            Err(StreamError::Closed) => return Ok(None),
            Err(StreamError::LastOperationFailed(e)) => return Err(Upload::ClientFailed(e.to_debug_string())),
        }
    }
}

/// Wait for the response headers, at most `ns`.
fn response_within(response: &FutureIncomingResponse, ns: u64) -> Result<IncomingResponse, UpstreamFailure> {
    let deadline = timer(ns);
    let ready = response.subscribe();
    loop {
        if let Some(result) = response.get() {
            return match result {
                Ok(Ok(r)) => Ok(r),
                Ok(Err(code)) => Err(failure(&code)),
                Err(()) => Err(UpstreamFailure::Unavailable("the response was already taken".into())),
            };
        }
        if poll(&[&ready, &deadline]).contains(&1) {
            return Err(UpstreamFailure::Timeout(format!("no response headers within {} s", ns / 1_000_000_000)));
        }
    }
}

/// The next piece of the upstream's body (`None` at its end), waiting at most `stall_ns`.
fn next_piece(input: &InputStream, readable: &Pollable, stall_ns: u64) -> Result<Option<Vec<u8>>, String> {
    loop {
        match input.read(CHUNK) {
            Ok(chunk) if chunk.is_empty() => {
                let stall = timer(stall_ns);
                if poll(&[readable, &stall]).contains(&1) {
                    return Err(format!("upstream body stalled for {} s", stall_ns / 1_000_000_000));
                }
            }
            Ok(chunk) => return Ok(Some(chunk)),
            Err(StreamError::Closed) => return Ok(None),
            Err(StreamError::LastOperationFailed(e)) => return Err(format!("upstream body: {}", e.to_debug_string())),
        }
    }
}

/// Write all of `piece` to the client, waiting at most `stall_ns` each time it takes nothing.
fn write_piece(output: &OutputStream, writable: &Pollable, piece: &[u8], stall_ns: u64) -> Result<(), String> {
    let mut rest = piece;
    while !rest.is_empty() {
        let n = output.check_write().map_err(|e| format!("client: {e:?}"))?;
        if n == 0 {
            let stall = timer(stall_ns);
            if poll(&[writable, &stall]).contains(&1) {
                return Err(format!("the client took nothing for {} s", stall_ns / 1_000_000_000));
            }
            continue;
        }
        let take = rest.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        output.write(&rest[..take]).map_err(|e| format!("client: {e:?}"))?;
        rest = &rest[take..];
    }
    Ok(())
}

/// Copy the rest of the upstream's body to the client. `Err` says where it broke off.
fn download(input: &InputStream, output: &OutputStream, stall_ns: u64) -> Result<(), String> {
    let readable = input.subscribe();
    let writable = output.subscribe();
    while let Some(piece) = next_piece(input, &readable, stall_ns)? {
        write_piece(output, &writable, &piece, stall_ns)?;
    }
    flush_within(output, &writable, stall_ns).map_err(|e| format!("client: {e}"))
}

/// The upstream's body when it is small and already complete (at most 4096 bytes: what one
/// `blocking-write-and-flush` takes), or the pieces read so far. A small complete body is
/// written and finished before the response is handed to the host, which then writes
/// headers and body at once (handed over first, the body waits for the client's delayed
/// ACK: see the component's `send`).
enum Start {
    Whole(Vec<u8>),
    Streaming(Vec<Vec<u8>>),
}

fn start_of_body(input: &InputStream, stall_ns: u64) -> Result<Start, String> {
    let readable = input.subscribe();
    let Some(first) = next_piece(input, &readable, stall_ns)? else { return Ok(Start::Whole(Vec::new())) };
    if first.len() > 4096 {
        return Ok(Start::Streaming(vec![first]));
    }
    match next_piece(input, &readable, stall_ns)? {
        None => Ok(Start::Whole(first)),
        Some(second) => Ok(Start::Streaming(vec![first, second])),
    }
}

/// Answer an upload that went wrong (too large, stalled, the client gone).
fn failed_upload(
    plan: &Forward,
    failed: Upload,
    response_out: ResponseOutparam,
    mut logs: Vec<LogLine>,
) -> Vec<LogLine> {
    match failed {
        Upload::TooLarge => answer_failure(plan, UpstreamFailure::BodyTooLarge, response_out, &mut logs),
        Upload::Stalled => {
            let detail = format!("the request body did not move for {} s", plan.timeout_ns / 1_000_000_000);
            answer_failure(plan, UpstreamFailure::Timeout(detail), response_out, &mut logs);
        }
        // The client is gone or broke its body: there is no one to answer.
        Upload::ClientFailed(detail) => {
            logs.push(plan.response_cut_off(&format!("the request body broke off: {detail}")))
        }
        Upload::Done | Upload::Answered => {}
    }
    logs
}

/// Send the answer for a failure; its lines go to `logs`.
fn answer_failure(plan: &Forward, failure: UpstreamFailure, response_out: ResponseOutparam, logs: &mut Vec<LogLine>) {
    let outcome = plan.failed(failure);
    logs.extend(outcome.logs.iter().cloned());
    super::respond_with(response_out, &outcome.response, logs);
}

/// Forward `request` as `plan` says and relay the answer; returns the lines to log.
pub(super) fn forward(request: IncomingRequest, response_out: ResponseOutparam, plan: &Forward) -> Vec<LogLine> {
    let mut logs = Vec::new();
    let (headers, refused) = fields(&plan.headers);
    if !refused.is_empty() {
        logs.push(
            LogLine::new("warn", "upstream_headers_refused", plan.now())
                .with("headers", refused)
                .with_text("detail", "the host does not let these request headers be sent"),
        );
    }
    let outgoing = OutgoingRequest::new(headers);
    let scheme = if plan.scheme == "https" { Scheme::Https } else { Scheme::Http };
    let target_set = outgoing.set_method(&method(&plan.method)).is_ok()
        && outgoing.set_scheme(Some(&scheme)).is_ok()
        && outgoing.set_authority(Some(&plan.authority)).is_ok()
        && outgoing.set_path_with_query(Some(&plan.path_with_query)).is_ok();
    if !target_set {
        let failure = UpstreamFailure::Unavailable("the host refused the method or target".into());
        answer_failure(plan, failure, response_out, &mut logs);
        return logs;
    }
    let Ok(upstream_body) = outgoing.body() else {
        answer_failure(plan, UpstreamFailure::Unavailable("no request body".into()), response_out, &mut logs);
        return logs;
    };
    let options = RequestOptions::new();
    // Hosts that do not support an option refuse it; certgate's own timers still apply.
    let _ = options.set_connect_timeout(Some(plan.connect_timeout_ns));
    let _ = options.set_first_byte_timeout(Some(plan.timeout_ns));
    let _ = options.set_between_bytes_timeout(Some(plan.timeout_ns));
    // The client's body, and its first piece, before the request goes upstream.
    let Ok(client_body) = request.consume() else {
        logs.push(plan.response_cut_off("the request body was already taken"));
        return logs;
    };
    let Ok(down) = client_body.stream() else {
        logs.push(plan.response_cut_off("the request body stream was already taken"));
        return logs;
    };
    let first = match first_piece(&down, plan.max_body_bytes, plan.timeout_ns) {
        Ok(first) => first,
        Err(failed) => {
            drop(down);
            drop(client_body);
            drop(upstream_body);
            return failed_upload(plan, failed, response_out, logs);
        }
    };
    let mut upstream_body = Some(upstream_body);
    if first.is_none() {
        if let Some(Err(code)) = upstream_body.take().map(|b| OutgoingBody::finish(b, None)) {
            answer_failure(plan, failure(&code), response_out, &mut logs);
            return logs;
        }
    }
    let pending = match outgoing_handler::handle(outgoing, Some(options)) {
        Ok(pending) => pending,
        Err(code) => {
            drop(upstream_body);
            answer_failure(plan, failure(&code), response_out, &mut logs);
            return logs;
        }
    };
    let upload = match (first, &upstream_body) {
        (None, _) => Upload::Done,
        (Some(first), Some(body)) => match body.write() {
            Ok(up) => {
                let result = upload(&down, &up, &pending, first, plan.max_body_bytes, plan.timeout_ns);
                drop(up);
                result
            }
            Err(()) => Upload::ClientFailed("the upstream body stream was already taken".into()),
        },
        (Some(_), None) => Upload::ClientFailed("the upstream body was already finished".into()),
    };
    drop(down);
    drop(client_body);
    match upload {
        Upload::Done => {
            if let Some(Err(code)) = upstream_body.map(|b| OutgoingBody::finish(b, None)) {
                drop(pending);
                answer_failure(plan, failure(&code), response_out, &mut logs);
                return logs;
            }
        }
        // Dropped unfinished: the host aborts the upstream request.
        Upload::Answered => drop(upstream_body),
        failed => {
            drop(upstream_body);
            drop(pending);
            return failed_upload(plan, failed, response_out, logs);
        }
    }

    let response = match response_within(&pending, plan.timeout_ns) {
        Ok(response) => response,
        Err(failure) => {
            drop(pending);
            answer_failure(plan, failure, response_out, &mut logs);
            return logs;
        }
    };
    drop(pending);
    let status = response.status();
    let upstream_headers = response.headers().entries();
    let (passed, decided) = plan.answered(status, &upstream_headers);
    let (headers, refused) = fields(&passed);
    if !refused.is_empty() {
        logs.push(
            LogLine::new("warn", "upstream_headers_refused", plan.now())
                .with("headers", refused)
                .with_text("detail", "the host does not let these response headers be sent"),
        );
    }
    let relayed = OutgoingResponse::new(headers);
    let _ = relayed.set_status_code(status);
    let Ok(upstream_body) = response.consume() else {
        let failure = UpstreamFailure::Unavailable("the upstream body was already taken".into());
        drop(relayed);
        answer_failure(plan, failure, response_out, &mut logs);
        return logs;
    };
    let Ok(up) = upstream_body.stream() else {
        drop(relayed);
        let failure = UpstreamFailure::Unavailable("the upstream body stream was already taken".into());
        answer_failure(plan, failure, response_out, &mut logs);
        return logs;
    };
    let start = match start_of_body(&up, plan.timeout_ns) {
        Ok(start) => start,
        // Nothing went to the client yet: a failure before the body's first piece is a 502.
        Err(detail) => {
            drop(up);
            drop(relayed);
            answer_failure(plan, UpstreamFailure::Unavailable(detail), response_out, &mut logs);
            return logs;
        }
    };
    logs.push(decided);
    let copied = match start {
        // At most 4096 bytes: the component's `send` writes and finishes it before handing
        // the response over.
        Start::Whole(body) => super::send(response_out, relayed, &body),
        Start::Streaming(pieces) => match relayed.body() {
            // Nothing went to the client yet: answered as the other failures before the body.
            Err(()) => {
                let failure = UpstreamFailure::Unavailable("the response body was already taken".into());
                answer_failure(plan, failure, response_out, &mut logs);
                Ok(())
            }
            Ok(client_body) => {
                response_out.set(relayed);
                let copied = match client_body.write() {
                    Ok(down) => {
                        let writable = down.subscribe();
                        let copied = pieces
                            .iter()
                            .try_for_each(|p| write_piece(&down, &writable, p, plan.timeout_ns))
                            .and_then(|()| download(&up, &down, plan.timeout_ns));
                        drop(writable);
                        drop(down);
                        copied
                    }
                    Err(()) => Err("no response body stream".into()),
                };
                match copied {
                    Ok(()) => OutgoingBody::finish(client_body, None).map_err(|e| format!("{e:?}")),
                    // Dropped unfinished: the host ends the response as broken, never as complete.
                    Err(detail) => {
                        drop(client_body);
                        Err(detail)
                    }
                }
            }
        },
    };
    drop(up);
    drop(upstream_body);
    if let Err(detail) = copied {
        logs.push(plan.response_cut_off(&detail));
    }
    logs
}
