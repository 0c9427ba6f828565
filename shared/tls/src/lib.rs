//! TLS client settings for the adapters whose drivers take a rustls config (Kafka on MSK, CQL on
//! Keyspaces), and the AWS SDKs' HTTP client on the same TLS stack ([`aws_http_client`]).
//!
//! Two choices are made here. The roots: the system's store (MSK's and Keyspaces' endpoints
//! chain to Amazon Trust Services, which every system store has), or a PEM file of them (a
//! private CA, a test's). And the name the certificate must carry: by default the name the
//! driver dialled, but a CQL driver dials each node by its IP address, so for Keyspaces the
//! certificate is checked against the configured host name instead ([`TlsSettings::server_name`]).

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the trusted root certificates come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Roots {
    /// The system's store (`SSL_CERT_FILE` and `SSL_CERT_DIR` move it, as for every client).
    #[default]
    System,
    /// Only the certificates in this PEM file.
    PemFile(PathBuf),
}

/// How a connection's TLS is checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// The roots the server's chain must lead to.
    pub roots: Roots,
    /// The DNS name the server's certificate must carry, whatever address was dialled; `None`
    /// checks the name the driver dialled.
    pub server_name: Option<String>,
}

/// Why the TLS settings could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The roots file could not be read.
    #[error("could not read the root certificates in {path}")]
    RootsFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The roots file held no certificate.
    #[error("{0} holds no PEM certificate")]
    NoCertificates(PathBuf),
    /// The server name is not a DNS name.
    #[error("{0:?} is not a DNS name a certificate can carry")]
    ServerName(String),
    /// rustls refused the settings.
    #[error("rustls: {0}")]
    Rustls(#[from] rustls::Error),
    /// The verifier could not be built from the roots.
    #[error("the certificate verifier: {0}")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
}

/// A rustls client config trusting the system's roots, checking the dialled name.
pub fn system_roots() -> Result<Arc<rustls::ClientConfig>, TlsError> {
    client_config(&TlsSettings::default())
}

/// A rustls client config as `settings` say.
pub fn client_config(settings: &TlsSettings) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let roots = Arc::new(root_store(&settings.roots)?);
    // The provider is named: the workspace links two, and rustls will not guess between them.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let config = match &settings.server_name {
        None => builder.with_root_certificates(roots).with_no_client_auth(),
        Some(name) => {
            let name = ServerName::try_from(name.clone())
                .ok()
                .filter(|n| matches!(n, ServerName::DnsName(_)))
                .ok_or_else(|| TlsError::ServerName(name.clone()))?;
            let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider).build()?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedName { verifier, name }))
                .with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// A connector for hyper's client that speaks HTTPS with the system's roots, and plain HTTP to
/// an `http://` address (a test's, a local emulator's).
#[cfg(feature = "https")]
pub fn https_connector() -> Result<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    TlsError,
> {
    let config = system_roots()?;
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config((*config).clone())
        .https_or_http()
        .enable_http1()
        .build())
}

/// The HTTP client every AWS SDK client here is given: rustls on *ring*, trusting the system's
/// roots as the SDK's default client does, and plain HTTP to an `http://` endpoint (moto, the
/// local stack). The SDK's default client runs rustls on aws-lc-rs, a second crypto library beside
/// the *ring* the Kafka and CQL drivers link, in every function's package. A function builds its
/// clients from one `SdkConfig` (`wiring::aws`), so they share this client's connections; a new
/// one per call keeps each test's runtime to connections of its own.
#[cfg(feature = "aws")]
pub fn aws_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK settings from the environment (region, credential chain), on [`aws_http_client`]:
/// what every process here loads its AWS clients from.
#[cfg(feature = "aws")]
pub fn aws_config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(aws_http_client())
}

fn root_store(roots: &Roots) -> Result<rustls::RootCertStore, TlsError> {
    let mut store = rustls::RootCertStore::empty();
    match roots {
        Roots::System => {
            for certificate in rustls_native_certs::load_native_certs().certs {
                // A certificate the store cannot use is skipped, as every TLS client does.
                let _ = store.add(certificate);
            }
        }
        Roots::PemFile(path) => {
            for certificate in pem_certificates(path)? {
                store.add(certificate)?;
            }
            if store.is_empty() {
                return Err(TlsError::NoCertificates(path.clone()));
            }
        }
    }
    Ok(store)
}

fn pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let unreadable = |source| TlsError::RootsFile {
        path: path.to_owned(),
        source,
    };
    let text = std::fs::read(path).map_err(unreadable)?;
    CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(std::io::Error::other(e.to_string())))
}

/// The standard WebPKI checks (chain to a trusted root, validity, signatures), but against one
/// configured name rather than the one the driver dialled. The scylla driver connects to each
/// node with `ServerName::IpAddress`; Keyspaces' certificate names
/// `cassandra.<region>.amazonaws.com` ("Service endpoints for Amazon Keyspaces"), so the default
/// check would refuse every handshake. Nothing else is relaxed.
#[derive(Debug)]
struct PinnedName {
    verifier: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for PinnedName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _dialled: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.verifier.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests;
