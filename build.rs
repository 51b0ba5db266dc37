//! Embeds the built web UI (`web-assets/dist/`) into the binary: every file with a strong
//! ETag (SHA-256 of its content), and gzip and brotli variants where they are smaller, so the
//! daemon never compresses at run time.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const DIST: &str = "web-assets/dist";

fn main() {
    println!("cargo:rerun-if-changed={DIST}");
    println!("cargo:rerun-if-changed=build.rs");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dist = root.join(DIST);
    if !dist.join("index.html").is_file() {
        panic!(
            "\n\nThe web UI is not built: run `scripts/build-web` (npm ci && npm run build in web-assets/) and build again.\n\n"
        );
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut files = vec![];
    collect(&dist, &mut files);
    files.sort();

    let mut table = String::from("pub static ASSETS: &[Asset] = &[\n");
    for (n, file) in files.iter().enumerate() {
        let relative = file.strip_prefix(&dist).unwrap();
        let url = format!(
            "/{}",
            relative
                .to_str()
                .expect("UTF-8 file names")
                .replace('\\', "/")
        );
        let body = std::fs::read(file).unwrap();
        let etag = hex(&Sha256::digest(&body)[..16]);
        let gzip = compress_gzip(&body);
        let brotli = compress_brotli(&body);
        let variant = |name: &str, data: Vec<u8>| -> String {
            if data.len() + 64 < body.len() {
                let path = out.join(format!("asset{n}.{name}"));
                std::fs::write(&path, data).unwrap();
                format!("Some(include_bytes!({:?}))", path)
            } else {
                "None".to_string()
            }
        };
        let gzip = variant("gz", gzip);
        let brotli = variant("br", brotli);
        writeln!(
            table,
            "    Asset {{ path: {url:?}, content_type: {:?}, etag: \"\\\"{etag}\\\"\", identity: include_bytes!({:?}), gzip: {gzip}, brotli: {brotli} }},",
            content_type(&url),
            file,
        )
        .unwrap();
    }
    table.push_str("];\n");
    std::fs::write(out.join("assets.rs"), table).unwrap();
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn compress_gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

fn compress_brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).unwrap();
    out
}

fn content_type(url: &str) -> &'static str {
    match url.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}
