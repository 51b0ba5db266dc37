//! The box's self-signed HTTPS certificate: one recipe shared by the first start (`http::tls`)
//! and factory provisioning (`firmware::provision`). ECDSA P-256, valid 10 years (browsers warn
//! about a self-signed certificate anyway; a long validity spares the owner a surprise expiry
//! years after installation), for the WAN and LAN factory addresses, the hostname and
//! loopback. Knows nothing of where the files go.

use chrono::Datelike;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_ECDSA_P256_SHA256};
use sha2::{Digest, Sha256};

/// The addresses the box answers on out of the factory (manual §1), besides its hostname.
pub const FACTORY_ADDRESSES: &[&str] = &["192.168.1.100", "192.168.10.100"];

const VALIDITY_DAYS: i64 = 3650;

/// A freshly generated key and certificate.
pub struct SelfSigned {
    pub key_pem: String,
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
}

/// Generates the key and a certificate named `CooCenter <name>`.
pub fn self_signed(name: &str, hostname: &str) -> Result<SelfSigned, rcgen::Error> {
    let mut names: Vec<String> = FACTORY_ADDRESSES.iter().map(|s| s.to_string()).collect();
    for extra in [hostname, "localhost", "127.0.0.1", "::1"] {
        if !extra.is_empty() && !names.iter().any(|n| n == extra) {
            names.push(extra.to_string());
        }
    }
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(names)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("CooCenter {name}"));
    dn.push(DnType::OrganizationName, "CooCenter call-center appliance");
    params.distinguished_name = dn;
    let today = chrono::Utc::now().date_naive();
    let not_before = today - chrono::Duration::days(1);
    let not_after = today + chrono::Duration::days(VALIDITY_DAYS);
    params.not_before = rcgen::date_time_ymd(
        not_before.year(),
        not_before.month() as u8,
        not_before.day() as u8,
    );
    params.not_after = rcgen::date_time_ymd(
        not_after.year(),
        not_after.month() as u8,
        not_after.day() as u8,
    );
    let cert = params.self_signed(&key)?;
    Ok(SelfSigned {
        key_pem: key.serialize_pem(),
        cert_pem: cert.pem(),
        cert_der: cert.der().to_vec(),
    })
}

/// `AB:CD:…` SHA-256 of a DER certificate, as browsers show it.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
