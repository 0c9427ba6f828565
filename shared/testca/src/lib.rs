//! For tests: a certificate authority made inside the test, the server certificates it issues,
//! and a TLS front door that puts a plaintext server behind TLS. The doubles of AWS services use
//! it to be as strict as the services are about TLS: a client must trust the test's CA (never a
//! verifier that accepts anything) and must check the certificate's name, as it will have to
//! with Amazon's certificates.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};

/// A certificate authority that exists only in this test.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    certificate: CertificateDer<'static>,
    pem: String,
}

/// The test CA could not be made or could not sign (never expected; a test fails with it).
#[derive(Debug)]
pub struct CaError(String);

impl std::fmt::Display for CaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CaError {}

fn failed(what: &str) -> impl FnOnce(rcgen::Error) -> CaError + '_ {
    move |e| CaError(format!("{what}: {e}"))
}

impl TestCa {
    /// A new CA with a key of its own.
    pub fn new() -> Result<Self, CaError> {
        let key = KeyPair::generate().map_err(failed("a CA key"))?;
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "shared carts test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let certificate = params.self_signed(&key).map_err(failed("the CA"))?;
        let pem = certificate.pem();
        Ok(Self {
            certificate: certificate.der().clone(),
            issuer: Issuer::new(params, key),
            pem,
        })
    }

    /// The CA's certificate, PEM-encoded: what a client is told to trust.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Writes the CA's certificate to `dir/test-ca.pem` and returns the path, for a client that
    /// reads its roots from a file (`CASSANDRA_TLS_CA_FILE`, `KAFKA_TLS_CA_FILE`).
    pub fn write_pem(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("test-ca.pem");
        std::fs::write(&path, &self.pem)?;
        Ok(path)
    }

    /// A root store holding only this CA.
    pub fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        // The certificate was made just above; a store always takes a well-formed one.
        let _ = roots.add(self.certificate.clone());
        roots
    }

    /// A server's TLS settings with a certificate this CA issued for `names` (DNS names).
    pub fn server_config(&self, names: &[&str]) -> Result<Arc<rustls::ServerConfig>, CaError> {
        let key = KeyPair::generate().map_err(failed("a server key"))?;
        let params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .map_err(failed("the server's names"))?;
        let certificate = params
            .signed_by(&key, &self.issuer)
            .map_err(failed("the server certificate"))?;
        let chain = vec![certificate.der().clone(), self.certificate.clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| CaError(format!("the server's TLS settings: {e}")))?;
        Ok(Arc::new(config))
    }
}

/// Accepts TLS on a free loopback port with `config` and forwards each connection's plaintext to
/// `target`, for as long as the test's runtime lives: TLS in front of a server that has none
/// (a Kafka broker, here). Returns the port's address.
pub async fn tls_front(
    target: SocketAddr,
    config: Arc<rustls::ServerConfig>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that fails the handshake (it does not trust the CA, or expects
                // another name) is simply dropped, as a real TLS server drops it.
                let Ok(mut client) = acceptor.accept(client).await else {
                    return;
                };
                let Ok(mut server) = TcpStream::connect(target).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn client(roots: rustls::RootCertStore) -> tokio_rustls::TlsConnector {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }

    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut read, mut write) = socket.split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        address
    }

    /// The echo server behind a front whose certificate `ca` issued for `broker.test`.
    async fn echo_behind_tls_for_broker_test(ca: &TestCa) -> SocketAddr {
        let config = ca.server_config(&["broker.test"]).expect("config");
        tls_front(echo().await, config).await.expect("a front")
    }

    #[tokio::test]
    async fn a_client_trusting_the_ca_reaches_the_server_behind_the_front_by_its_name() {
        let ca = TestCa::new().expect("a CA");
        let front = echo_behind_tls_for_broker_test(&ca).await;
        let tcp = TcpStream::connect(front).await.expect("connect");
        let name = rustls_pki_types::ServerName::try_from("broker.test").expect("a name");
        let mut tls = client(ca.roots())
            .connect(name, tcp)
            .await
            .expect("handshake");
        tls.write_all(b"ping").await.expect("write");
        let mut answer = [0u8; 4];
        tls.read_exact(&mut answer).await.expect("read");
        assert_eq!(&answer, b"ping");
    }

    #[tokio::test]
    async fn a_client_expecting_another_name_or_another_ca_is_refused() {
        let ca = TestCa::new().expect("a CA");
        let front = echo_behind_tls_for_broker_test(&ca).await;
        let other = rustls_pki_types::ServerName::try_from("other.test").expect("a name");
        let tcp = TcpStream::connect(front).await.expect("connect");
        assert!(client(ca.roots()).connect(other, tcp).await.is_err());
        let stranger = TestCa::new().expect("another CA");
        let name = rustls_pki_types::ServerName::try_from("broker.test").expect("a name");
        let tcp = TcpStream::connect(front).await.expect("connect");
        assert!(client(stranger.roots()).connect(name, tcp).await.is_err());
    }
}
