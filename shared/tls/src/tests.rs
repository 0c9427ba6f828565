//! The pinned-name verifier against a server of the test CA at 127.0.0.1, dialled by its address
//! as the CQL driver dials every node.

use super::*;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use testca::TestCa;
use tokio::net::{TcpListener, TcpStream};

const KEYSPACES: &str = "cassandra.us-east-1.amazonaws.com";

/// A TLS server on loopback with a certificate for `KEYSPACES`, accepting handshakes.
async fn server(ca: &TestCa) -> SocketAddr {
    let acceptor = tokio_rustls::TlsAcceptor::from(ca.server_config(&[KEYSPACES]).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(socket).await;
            });
        }
    });
    address
}

/// Whether a client with `settings` completes a handshake with the server, dialling its IP.
async fn handshake(address: SocketAddr, settings: &TlsSettings) -> Result<(), String> {
    let config = client_config(settings).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    let dialled = ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into());
    tokio_rustls::TlsConnector::from(config)
        .connect(dialled, tcp)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn ca_file(ca: &TestCa) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("tls-test-{}", uuid_like()));
    let file = ca.write_pem(&dir).unwrap();
    (dir, file)
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{nanos}", std::process::id())
}

#[tokio::test]
async fn a_certificate_for_the_configured_name_is_accepted_whatever_address_was_dialled() {
    let ca = TestCa::new().unwrap();
    let (dir, file) = ca_file(&ca);
    let pinned = TlsSettings {
        roots: Roots::PemFile(file),
        server_name: Some(KEYSPACES.to_owned()),
    };
    assert_eq!(handshake(server(&ca).await, &pinned).await, Ok(()));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_a_configured_name_the_dialled_address_is_checked_and_refused() {
    // This is what every Keyspaces connection did before the name was pinned.
    let ca = TestCa::new().unwrap();
    let (dir, file) = ca_file(&ca);
    let dialled = TlsSettings {
        roots: Roots::PemFile(file),
        server_name: None,
    };
    let refused = handshake(server(&ca).await, &dialled).await.unwrap_err();
    assert!(refused.contains("certificate"), "{refused}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn another_name_or_an_untrusted_ca_is_refused() {
    let ca = TestCa::new().unwrap();
    let address = server(&ca).await;
    let (dir, file) = ca_file(&ca);
    let other_region = TlsSettings {
        roots: Roots::PemFile(file),
        server_name: Some("cassandra.eu-west-1.amazonaws.com".to_owned()),
    };
    assert!(handshake(address, &other_region).await.is_err());
    let stranger = TestCa::new().unwrap();
    let (other_dir, other_file) = ca_file(&stranger);
    let untrusted = TlsSettings {
        roots: Roots::PemFile(other_file),
        server_name: Some(KEYSPACES.to_owned()),
    };
    assert!(handshake(address, &untrusted).await.is_err());
    let system = TlsSettings {
        roots: Roots::System,
        server_name: Some(KEYSPACES.to_owned()),
    };
    assert!(handshake(address, &system).await.is_err());
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(other_dir);
}

#[test]
fn settings_build_with_the_system_roots() {
    assert!(system_roots().is_ok());
}

#[test]
fn a_roots_file_that_is_missing_or_empty_or_a_name_that_is_an_address_is_an_error() {
    let missing = TlsSettings {
        roots: Roots::PemFile(PathBuf::from("/nonexistent/roots.pem")),
        server_name: None,
    };
    assert!(matches!(
        client_config(&missing),
        Err(TlsError::RootsFile { .. })
    ));
    let empty = std::env::temp_dir().join(format!("empty-{}.pem", uuid_like()));
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let no_certificates = TlsSettings {
        roots: Roots::PemFile(empty.clone()),
        server_name: None,
    };
    assert!(matches!(
        client_config(&no_certificates),
        Err(TlsError::NoCertificates(_))
    ));
    let _ = std::fs::remove_file(empty);
    let address = TlsSettings {
        roots: Roots::System,
        server_name: Some("10.0.0.1".to_owned()),
    };
    assert!(matches!(
        client_config(&address),
        Err(TlsError::ServerName(_))
    ));
}
