//! A minimal DER reader: just enough to walk the CMS signature RAUC appends to a bundle (the
//! certificates it carries, and the manifest a `verity` bundle signs inline). It never decides
//! whether a signature is valid — RAUC does — it only explains a refusal and reads sizes.

/// One tag-length-value element.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    /// The content octets.
    pub value: &'a [u8],
    /// The whole element, header included (what a Name is compared by).
    pub raw: &'a [u8],
}

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const OID: u8 = 0x06;
pub const OCTET_STRING: u8 = 0x04;
pub const INTEGER: u8 = 0x02;
/// `[0]` constructed, context-specific (EXPLICIT or IMPLICIT constructed).
pub const CONTEXT_0: u8 = 0xA0;

/// Reads one element from the front of `input`, returning it and the rest. `None` when the
/// input is not well-formed DER (multi-byte tags and indefinite lengths included: CMS written
/// by OpenSSL for RAUC uses neither).
pub fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1F == 0x1F {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let count = (first & 0x7F) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..count] {
            len = (len << 8) | b as usize;
        }
        rest = &rest[count..];
        len
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    Some((
        Tlv {
            tag,
            value: &rest[..len],
            raw: &input[..header + len],
        },
        &rest[len..],
    ))
}

/// Reads one element that must have `tag`.
pub fn expect(input: &[u8], tag: u8) -> Option<(Tlv<'_>, &[u8])> {
    read(input).filter(|(tlv, _)| tlv.tag == tag)
}

/// All the elements of a constructed value, in order.
pub fn children(mut value: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !value.is_empty() {
        let (tlv, rest) = read(value)?;
        out.push(tlv);
        value = rest;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths() {
        let (tlv, rest) = read(&[0x04, 0x02, 0xAA, 0xBB, 0xFF]).unwrap();
        assert_eq!(
            (tlv.tag, tlv.value, rest),
            (0x04, &[0xAA, 0xBB][..], &[0xFF][..])
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        let (tlv, rest) = read(&long).unwrap();
        assert_eq!(tlv.value.len(), 0x80);
        assert_eq!(tlv.raw.len(), 0x83);
        assert!(rest.is_empty());
    }

    #[test]
    fn refuses_truncated_and_indefinite() {
        assert!(read(&[0x04, 0x05, 1, 2]).is_none());
        assert!(read(&[0x30, 0x80, 0, 0]).is_none());
        assert!(read(&[0x1F, 0x01, 0x00]).is_none());
        assert!(read(&[]).is_none());
        assert!(children(&[0x02, 0x01, 0x05, 0x02]).is_none());
    }
}
