//! What the daemon reads from an uploaded RAUC bundle itself, before and besides asking RAUC:
//! the file's structure (a squashfs image, then — for `verity` bundles — its hash tree, then
//! a CMS signature and its size as a big-endian u64 at the very end), so that a truncated
//! upload is named as such; the certificates the signature carries, so that a refusal can say
//! "signed by a CA this box does not trust" rather than "bad signature"; and, for `verity`
//! bundles, the manifest signed inline in the CMS (image sizes, when RAUC is too old to have
//! `InspectBundle`).
//!
//! None of this is a security decision: RAUC verifies the signature and refuses on its own.
//! This module only explains and pre-checks.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use base64::Engine;

use super::der::{self, Tlv};

/// squashfs 4 magic, `hsqs`, little-endian at offset 0.
const SQUASHFS_MAGIC: &[u8; 4] = b"hsqs";
/// Size of the squashfs superblock; `bytes_used` is the u64 at offset 40.
const SQUASHFS_SUPERBLOCK: usize = 96;
/// RAUC refuses signatures over 64 KiB; so do we.
const MAX_SIGNATURE: u64 = 64 * 1024;
/// DER of the CMS content types.
const OID_SIGNED_DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];
const OID_ENVELOPED_DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03];

/// Why a file is not a usable bundle, as far as its structure tells.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("not a RAUC bundle (no squashfs image at the start)")]
    NotABundle,
    #[error("the bundle is incomplete or damaged: {0}")]
    Damaged(String),
    #[error("reading the bundle: {0}")]
    Io(String),
}

/// The structure of a bundle file.
#[derive(Debug, Clone)]
pub struct Layout {
    pub file_size: u64,
    /// The squashfs image's own size (its superblock's `bytes_used`).
    pub squashfs_size: u64,
    pub signature_size: u64,
    /// The CMS is encrypted (a `crypt` bundle): no certificates nor manifest readable.
    pub encrypted: bool,
    /// Certificates carried by the signature (signer first as RAUC writes them).
    pub certificates: Vec<CertNames>,
    /// The manifest signed inline (`verity` and `crypt` bundles); `None` for `plain` ones,
    /// whose manifest is inside the squashfs image.
    pub inline_manifest: Option<Manifest>,
}

/// A certificate's subject and issuer, as DER Names (compared byte for byte, as OpenSSL's
/// chain building does after canonicalisation; our CAs encode names one way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertNames {
    pub subject: Vec<u8>,
    pub issuer: Vec<u8>,
}

/// The parts of a RAUC manifest (`manifest.raucm`) that the daemon uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub compatible: Option<String>,
    pub version: Option<String>,
    /// `[bundle] format=`; absent in plain bundles made by older RAUC.
    pub format: Option<String>,
    pub images: Vec<ManifestImage>,
}

/// One `[image.<class>]` (or `[image.<class>.<variant>]`) section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestImage {
    pub slot_class: String,
    pub filename: Option<String>,
    /// Bytes written to the slot (RAUC adds `size=` when it makes the bundle).
    pub size: Option<u64>,
}

/// Reads and checks the structure of the bundle at `path`. Blocking (reads a few KiB).
pub fn read_layout(path: &Path) -> Result<Layout, LayoutError> {
    let io = |e: std::io::Error| LayoutError::Io(e.to_string());
    let mut file = File::open(path).map_err(io)?;
    let file_size = file.metadata().map_err(io)?.len();
    let mut superblock = [0u8; SQUASHFS_SUPERBLOCK];
    if file_size < SQUASHFS_SUPERBLOCK as u64 {
        return Err(if file_size >= 4 && starts_with_magic(&mut file) {
            LayoutError::Damaged("the file ends inside the image header".into())
        } else {
            LayoutError::NotABundle
        });
    }
    file.read_exact(&mut superblock).map_err(io)?;
    if &superblock[..4] != SQUASHFS_MAGIC {
        return Err(LayoutError::NotABundle);
    }
    let squashfs_size = u64::from_le_bytes(superblock[40..48].try_into().expect("8 bytes"));
    if file_size < 8 + SQUASHFS_SUPERBLOCK as u64 {
        return Err(LayoutError::Damaged("the file is too short".into()));
    }
    let mut trailer = [0u8; 8];
    file.seek(SeekFrom::End(-8)).map_err(io)?;
    file.read_exact(&mut trailer).map_err(io)?;
    let signature_size = u64::from_be_bytes(trailer);
    if signature_size == 0 || signature_size > MAX_SIGNATURE || signature_size + 8 > file_size {
        return Err(LayoutError::Damaged(format!(
            "no signature at the end of the file (size field {signature_size})"
        )));
    }
    let payload_size = file_size - 8 - signature_size;
    if payload_size < squashfs_size {
        return Err(LayoutError::Damaged(format!(
            "the image needs {squashfs_size} bytes but only {payload_size} are present"
        )));
    }
    let mut signature = vec![0u8; signature_size as usize];
    file.seek(SeekFrom::Start(payload_size)).map_err(io)?;
    file.read_exact(&mut signature).map_err(io)?;
    let cms = parse_cms(&signature).ok_or_else(|| {
        LayoutError::Damaged("the signature block is not a well-formed CMS structure".into())
    })?;
    Ok(Layout {
        file_size,
        squashfs_size,
        signature_size,
        encrypted: cms.encrypted,
        certificates: cms.certificates,
        inline_manifest: cms.content.map(|text| parse_manifest(&text)),
    })
}

fn starts_with_magic(file: &mut File) -> bool {
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic).is_ok() && &magic == SQUASHFS_MAGIC
}

struct Cms {
    encrypted: bool,
    certificates: Vec<CertNames>,
    content: Option<String>,
}

/// Walks `ContentInfo { signedData, SignedData { version, digestAlgorithms,
/// encapContentInfo { type, [0] eContent }, [0] certificates, [1] crls, signerInfos } }`.
fn parse_cms(bytes: &[u8]) -> Option<Cms> {
    let (content_info, rest) = der::expect(bytes, der::SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (oid, rest) = der::expect(content_info.value, der::OID)?;
    if oid.value == OID_ENVELOPED_DATA {
        // A `crypt` bundle: the signed data is encrypted for the device's key.
        return Some(Cms {
            encrypted: true,
            certificates: Vec::new(),
            content: None,
        });
    }
    if oid.value != OID_SIGNED_DATA {
        return None;
    }
    let (explicit, _) = der::expect(rest, der::CONTEXT_0)?;
    let (signed_data, _) = der::expect(explicit.value, der::SEQUENCE)?;
    let fields = der::children(signed_data.value)?;
    let mut fields = fields.into_iter();
    fields.next().filter(|f| f.tag == der::INTEGER)?;
    fields.next().filter(|f| f.tag == der::SET)?;
    let encap = fields.next().filter(|f| f.tag == der::SEQUENCE)?;
    let content = encapsulated_content(encap)?;
    let mut certificates = Vec::new();
    for field in fields {
        if field.tag == der::CONTEXT_0 {
            for cert in der::children(field.value)? {
                if let Some(names) = cert_names(cert) {
                    certificates.push(names);
                }
            }
        }
    }
    Some(Cms {
        encrypted: false,
        certificates,
        content,
    })
}

/// `Some(None)` for a detached signature (plain bundles), `Some(Some(text))` for inline.
fn encapsulated_content(encap: Tlv<'_>) -> Option<Option<String>> {
    let (_, rest) = der::expect(encap.value, der::OID)?;
    if rest.is_empty() {
        return Some(None);
    }
    let (explicit, _) = der::expect(rest, der::CONTEXT_0)?;
    let (octets, _) = der::expect(explicit.value, der::OCTET_STRING)?;
    Some(Some(String::from_utf8_lossy(octets.value).into_owned()))
}

/// Subject and issuer of an X.509 certificate.
fn cert_names(cert: Tlv<'_>) -> Option<CertNames> {
    if cert.tag != der::SEQUENCE {
        return None;
    }
    let (tbs, _) = der::expect(cert.value, der::SEQUENCE)?;
    let fields = der::children(tbs.value)?;
    // Skip the optional `[0] version`.
    let start = usize::from(fields.first()?.tag == der::CONTEXT_0);
    // serialNumber, signature, issuer, validity, subject
    let issuer = fields.get(start + 2).filter(|f| f.tag == der::SEQUENCE)?;
    let subject = fields.get(start + 4).filter(|f| f.tag == der::SEQUENCE)?;
    Some(CertNames {
        subject: subject.raw.to_vec(),
        issuer: issuer.raw.to_vec(),
    })
}

/// The certificates of a PEM keyring (RAUC's `[keyring] path`).
pub fn read_keyring(pem: &str) -> Vec<CertNames> {
    let mut out = Vec::new();
    let mut rest = pem;
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    while let Some(start) = rest.find(BEGIN) {
        let body_start = start + BEGIN.len();
        let Some(len) = rest[body_start..].find(END) else {
            break;
        };
        let body: String = rest[body_start..body_start + len]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body) {
            if let Some(names) = der::read(&der).and_then(|(tlv, _)| cert_names(tlv)) {
                out.push(names);
            }
        }
        rest = &rest[body_start + len + END.len()..];
    }
    out
}

/// Whether a certificate the bundle carries was issued by (or is) one of the keyring's.
/// `None` when the bundle carries no readable certificate (encrypted), so nothing can be said.
pub fn issued_by_keyring(layout: &Layout, keyring: &[CertNames]) -> Option<bool> {
    if layout.certificates.is_empty() {
        return None;
    }
    Some(layout.certificates.iter().any(|cert| {
        keyring
            .iter()
            .any(|ca| cert.issuer == ca.subject || cert == ca)
    }))
}

/// Parses a RAUC manifest (a GLib key file). Unknown sections and keys are ignored.
pub fn parse_manifest(text: &str) -> Manifest {
    let mut manifest = Manifest::default();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            if let Some(image) = section.strip_prefix("image.") {
                let class = image.split('.').next().unwrap_or(image).to_string();
                manifest.images.push(ManifestImage {
                    slot_class: class,
                    filename: None,
                    size: None,
                });
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim().to_string());
        match (section.as_str(), key) {
            ("update", "compatible") => manifest.compatible = Some(value),
            ("update", "version") => manifest.version = Some(value),
            ("bundle", "format") => manifest.format = Some(value),
            (s, "filename") if s.starts_with("image.") => {
                if let Some(image) = manifest.images.last_mut() {
                    image.filename = Some(value);
                }
            }
            (s, "size") if s.starts_with("image.") => {
                if let Some(image) = manifest.images.last_mut() {
                    image.size = value.parse().ok();
                }
            }
            _ => {}
        }
    }
    manifest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_sections() {
        let m = parse_manifest(
            "[update]\ncompatible=CooCenter CC-8\nversion=1.4.0\n\n[bundle]\nformat=verity\nverity-size=4096\n\n\
             [image.rootfs]\nsha256=ab\nsize=2097152\nfilename=rootfs.ext4\n\n[image.appfs.special]\nfilename=a.img\n",
        );
        assert_eq!(m.compatible.as_deref(), Some("CooCenter CC-8"));
        assert_eq!(m.version.as_deref(), Some("1.4.0"));
        assert_eq!(m.format.as_deref(), Some("verity"));
        assert_eq!(
            m.images,
            vec![
                ManifestImage {
                    slot_class: "rootfs".into(),
                    filename: Some("rootfs.ext4".into()),
                    size: Some(2_097_152)
                },
                ManifestImage {
                    slot_class: "appfs".into(),
                    filename: Some("a.img".into()),
                    size: None
                },
            ]
        );
    }

    #[test]
    fn not_a_bundle_and_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, vec![b'x'; 10_000]).unwrap();
        assert_eq!(read_layout(&text).unwrap_err(), LayoutError::NotABundle);

        let short = dir.path().join("short.raucb");
        let mut bytes = b"hsqs".to_vec();
        bytes.resize(50, 0);
        std::fs::write(&short, &bytes).unwrap();
        assert!(matches!(read_layout(&short), Err(LayoutError::Damaged(_))));

        // A superblock claiming more bytes than the file holds, with a plausible trailer.
        let cut = dir.path().join("cut.raucb");
        let mut bytes = b"hsqs".to_vec();
        bytes.resize(8192, 0);
        bytes[40..48].copy_from_slice(&1_000_000u64.to_le_bytes());
        bytes.extend_from_slice(&[0x30, 0x00]);
        bytes.extend_from_slice(&2u64.to_be_bytes());
        std::fs::write(&cut, &bytes).unwrap();
        let err = read_layout(&cut).unwrap_err();
        assert!(err.to_string().contains("only"), "{err}");
    }
}
