//! Feeds arbitrary bytes to the AMI decoder, split into reads of varying size, with a small
//! or the default size cap. Checks: no panic, no error other than `MessageTooLarge` before
//! EOF, the read buffer never outgrows the cap, and every decoded frame can be re-encoded
//! (or is refused cleanly).
#![no_main]

use bytes::BytesMut;
use host::ami::{AmiCodec, CodecError};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::{Decoder, Encoder};

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the read size (1..=64) and the cap.
    let Some((&control, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(control & 0x3f) + 1;
    let cap = if control & 0x40 != 0 { 256 } else { 64 * 1024 };
    let mut codec = AmiCodec::with_max_message_size(cap);
    let mut encoder = AmiCodec::new();
    let mut buf = BytesMut::new();
    for part in data.chunks(chunk) {
        buf.extend_from_slice(part);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    let mut out = BytesMut::new();
                    let _ = encoder.encode(&frame, &mut out);
                }
                Ok(None) => break,
                Err(CodecError::MessageTooLarge { .. }) => {}
                Err(e) => panic!("unexpected decode error: {e}"),
            }
        }
        assert!(buf.len() <= cap, "read buffer {} exceeds cap {cap}", buf.len());
    }
    let _ = codec.decode_eof(&mut buf);
});
