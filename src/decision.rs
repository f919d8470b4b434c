//! The decision: from the request's certificate header(s) and the configuration to an
//! authenticated identity or a refusal with its reason.

use crate::certificate::{rfc3339, ClientCertificate};
use crate::config::Config;
use crate::extract::{extract, Format};
use crate::reason::{Reason, Refusal};
use crate::thumbprint::Thumbprint;

/// Which configured entry let the certificate in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchedPin {
    /// 1-based position in `allowed_thumbprints`.
    pub entry: usize,
    pub thumbprint: Thumbprint,
}

/// A successfully authenticated client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub certificate: ClientCertificate,
    /// The rest of the forwarded chain, decoded (leaf excluded).
    pub chain: Vec<ClientCertificate>,
    pub format: Format,
    pub matched: MatchedPin,
}

/// A refusal, with the certificate when it was decoded (for the decision log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub refusal: Refusal,
    pub certificate: Option<Box<ClientCertificate>>,
}

impl From<Refusal> for Denial {
    fn from(refusal: Refusal) -> Self {
        Denial {
            refusal,
            certificate: None,
        }
    }
}

/// Authenticate a request. `cert_lines` are every line of the configured certificate
/// header, `chain_lines` those of the chain header; `now` is Unix seconds.
pub fn authenticate(
    config: &Config,
    cert_lines: &[Vec<u8>],
    chain_lines: &[Vec<u8>],
    now: i64,
) -> Result<Identity, Denial> {
    let forwarded = extract(&config.extraction, cert_lines, chain_lines)?;
    let certificate = ClientCertificate::from_der(&forwarded.leaf)?;
    let chain = forwarded
        .chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            ClientCertificate::from_der(der).map_err(|e| {
                Refusal::malformed(format!("chain certificate {}: {}", i + 1, e.detail))
            })
        })
        .collect::<Result<Vec<_>, _>>();
    let deny = |refusal: Refusal, certificate: ClientCertificate| Denial {
        refusal,
        certificate: Some(Box::new(certificate)),
    };
    let chain = match chain {
        Ok(c) => c,
        Err(refusal) => return Err(deny(refusal, certificate)),
    };

    let skew = i64::try_from(config.clock_skew_seconds).unwrap_or(0);
    if now.saturating_add(skew) < certificate.not_before {
        let detail = format!("not valid before {}", rfc3339(certificate.not_before));
        return Err(deny(
            Refusal::new(Reason::CertificateNotYetValid, detail),
            certificate,
        ));
    }
    if now.saturating_sub(skew) > certificate.not_after {
        let detail = format!("expired at {}", rfc3339(certificate.not_after));
        return Err(deny(
            Refusal::new(Reason::CertificateExpired, detail),
            certificate,
        ));
    }

    let Some((index, thumbprint)) = config
        .thumbprints
        .find(&certificate.sha1, &certificate.sha256)
    else {
        let detail = format!(
            "no configured thumbprint matches (sha256 {})",
            certificate.sha256_hex()
        );
        return Err(deny(
            Refusal::new(Reason::CertificateNotAllowed, detail),
            certificate,
        ));
    };
    let matched = MatchedPin {
        entry: index + 1,
        thumbprint: thumbprint.clone(),
    };
    Ok(Identity {
        certificate,
        chain,
        format: forwarded.format,
        matched,
    })
}
