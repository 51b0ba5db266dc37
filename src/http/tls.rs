//! The HTTPS identity of the box: loading the certificate and key, or, on the very first
//! start, generating them (ECDSA P-256, self-signed, valid for the WAN and LAN default
//! addresses, the hostname and localhost), and the rustls configuration (ring provider,
//! TLS 1.2 and 1.3 only, HTTP/2 and HTTP/1.1 by ALPN).

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::{certificate, fs_atomic};

pub use crate::certificate::FACTORY_ADDRESSES;

pub struct TlsIdentity {
    pub server_config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the leaf certificate, as browsers show it (`AB:CD:…`).
    pub fingerprint_sha256: String,
}

/// Loads the certificate and key at the given paths. When both are missing and `may_generate`
/// (the default paths in the data directory), generates a new pair first; owner-supplied
/// paths that do not exist are an error, never silently replaced.
pub fn load_or_generate(
    cert_path: &Path,
    key_path: &Path,
    may_generate: bool,
    hostname: &str,
) -> anyhow::Result<TlsIdentity> {
    if !cert_path.exists() && !key_path.exists() {
        if !may_generate {
            bail!(
                "TLS certificate {} and key {} do not exist",
                cert_path.display(),
                key_path.display()
            );
        }
        generate(cert_path, key_path, hostname)?;
    }
    let cert_pem = std::fs::read(cert_path)
        .with_context(|| format!("reading TLS certificate {}", cert_path.display()))?;
    let key_pem = std::fs::read(key_path)
        .with_context(|| format!("reading TLS key {}", key_path.display()))?;
    let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut &cert_pem[..])
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing TLS certificate {}", cert_path.display()))?;
    let Some(leaf) = chain.first() else {
        bail!("{} holds no certificate", cert_path.display());
    };
    let fingerprint_sha256 = certificate::fingerprint(leaf);
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &key_pem[..])
        .with_context(|| format!("parsing TLS key {}", key_path.display()))?
        .with_context(|| format!("{} holds no private key", key_path.display()))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the TLS key does not match the certificate")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsIdentity {
        server_config: Arc::new(config),
        fingerprint_sha256,
    })
}

/// Generates the self-signed pair; the key is written with mode 0600.
fn generate(cert_path: &Path, key_path: &Path, hostname: &str) -> anyhow::Result<()> {
    let generated =
        certificate::self_signed(hostname, hostname).context("generating the TLS certificate")?;
    for path in [cert_path, key_path] {
        if let Some(dir) = path.parent() {
            fs_atomic::create_private_dir(dir)?;
        }
    }
    fs_atomic::write(key_path, generated.key_pem.as_bytes(), 0o600)?;
    fs_atomic::write(cert_path, generated.cert_pem.as_bytes(), 0o644)?;
    log::info!(
        "generated a self-signed TLS certificate for {} at {}",
        hostname,
        cert_path.display()
    );
    Ok(())
}
