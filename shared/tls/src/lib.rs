//! TLS client settings with the system's root certificates, for the adapters whose drivers take
//! a rustls config (Kafka on MSK, CQL on Keyspaces); the AWS SDKs bring their own.

use std::sync::Arc;

/// A rustls client config trusting the system's roots (MSK's and Keyspaces' endpoints chain to
/// Amazon's roots, which every system store has).
pub fn system_roots() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_native_certs::load_native_certs().certs {
        // A certificate the store cannot use is skipped, as every TLS client does.
        let _ = roots.add(certificate);
    }
    // The provider is named: the workspace links two, and rustls will not guess between them.
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    #[test]
    fn settings_build_with_the_system_roots() {
        assert!(super::system_roots().is_ok());
    }
}
