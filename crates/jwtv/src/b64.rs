//! Strict, unpadded base64url (RFC 4648 §5) for the public token segments.
//!
//! A table decoder rather than `base64ct`'s constant-time one: header, payload and
//! signature are public, so there is nothing for a timing channel to leak, and the
//! table is about twice as fast on the payload. Secret material (a JWK's `k`) is
//! decoded with `base64ct` instead ([`VerifyingKey::hmac_from_base64url`](crate::VerifyingKey::hmac_from_base64url)).
//!
//! It rejects exactly what `base64ct::Base64UrlUnpadded` rejects (a property test
//! compares them): `=` padding, whitespace, any byte outside `A–Z a–z 0–9 - _`, a
//! length of 1 mod 4, and non-zero trailing bits.

/// Marks a byte outside the alphabet; its top bit makes any OR of lookups detectable.
const INVALID: u8 = 0xFF;

#[expect(
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an out-of-bounds index fails the build"
)]
static DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The base64url input was invalid (any reason; callers map it to the token part).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidBase64;

#[inline(always)]
fn sextet(b: u8) -> u32 {
    u32::from(DECODE.get(usize::from(b)).copied().unwrap_or(INVALID))
}

/// The decoded length of `encoded_len` base64url characters, or `None` when
/// no unpadded encoding has that length (`len % 4 == 1`).
pub(crate) const fn decoded_len(encoded_len: usize) -> Option<usize> {
    let rem = encoded_len % 4;
    if rem == 1 {
        return None;
    }
    let full = (encoded_len / 4) * 3;
    Some(if rem == 0 { full } else { full + rem - 1 })
}

/// Decodes `src` into the front of `out` and returns the decoded bytes.
///
/// `Err` when `src` is not canonical unpadded base64url or `out` is too short
/// (callers size `out` with [`decoded_len`] first).
pub(crate) fn decode<'o>(src: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], InvalidBase64> {
    let len = decoded_len(src.len()).ok_or(InvalidBase64)?;
    let out = out.get_mut(..len).ok_or(InvalidBase64)?;

    let mut quads = src.chunks_exact(4);
    let mut triples = out.chunks_exact_mut(3);
    // Lookups are OR-ed together and checked once: a table entry >= 64 has a high bit set.
    let mut bad = 0u32;
    for (quad, triple) in (&mut quads).zip(&mut triples) {
        if let ([a, b, c, d], [x, y, z]) = (quad, triple) {
            let (a, b, c, d) = (sextet(*a), sextet(*b), sextet(*c), sextet(*d));
            bad |= a | b | c | d;
            let n = (a << 18) | (b << 12) | (c << 6) | d;
            let [_, n2, n1, n0] = n.to_be_bytes();
            (*x, *y, *z) = (n2, n1, n0);
        }
    }
    match (quads.remainder(), triples.into_remainder()) {
        ([], []) => {}
        ([a, b], [x]) => {
            let (a, b) = (sextet(*a), sextet(*b));
            // The last sextet carries 4 unused bits, which must be zero.
            bad |= a | b | (b & 0x0F) << 8;
            let [_, n2, _, _] = ((a << 18) | (b << 12)).to_be_bytes();
            *x = n2;
        }
        ([a, b, c], [x, y]) => {
            let (a, b, c) = (sextet(*a), sextet(*b), sextet(*c));
            // The last sextet carries 2 unused bits, which must be zero.
            bad |= a | b | c | (c & 0x03) << 8;
            let [_, n2, n1, _] = ((a << 18) | (b << 12) | (c << 6)).to_be_bytes();
            (*x, *y) = (n2, n1);
        }
        _ => return Err(InvalidBase64),
    }
    if bad >= 64 {
        return Err(InvalidBase64);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Result<([u8; 64], usize), InvalidBase64> {
        let mut buf = [0u8; 64];
        let n = decode(s.as_bytes(), &mut buf)?.len();
        Ok((buf, n))
    }

    #[test]
    fn decodes_rfc4648_vectors_without_padding() {
        for (enc, plain) in [
            ("", ""),
            ("Zg", "f"),
            ("Zm8", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg", "foob"),
            ("Zm9vYmE", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ] {
            let (buf, n) = dec(enc).unwrap();
            assert_eq!(&buf[..n], plain.as_bytes(), "{enc}");
        }
        let (buf, n) = dec("-_-_").unwrap();
        assert_eq!(&buf[..n], &[0xfb, 0xff, 0xbf]);
    }

    #[test]
    fn rejects_padding_whitespace_foreign_bytes_and_noncanonical_bits() {
        for bad in [
            "Zg==",
            "Zm8=",
            "Zm9v ",
            " Zm9v",
            "Zm\n9v",
            "Zm9+",
            "Zm9/",
            "Z",
            "Zm9vY",
            "Zh",
            "Zm9",
            "Zm+v",
            "Zm9v\0",
            "Zm9\u{e9}",
        ] {
            assert_eq!(dec(bad), Err(InvalidBase64), "{bad:?}");
        }
    }

    #[test]
    fn rejects_short_output_buffers() {
        let mut buf = [0u8; 2];
        assert_eq!(decode(b"Zm9v", &mut buf), Err(InvalidBase64));
    }

    #[test]
    fn decoded_len_matches_unpadded_lengths() {
        assert_eq!(decoded_len(0), Some(0));
        assert_eq!(decoded_len(1), None);
        assert_eq!(decoded_len(2), Some(1));
        assert_eq!(decoded_len(3), Some(2));
        assert_eq!(decoded_len(4), Some(3));
        assert_eq!(decoded_len(43), Some(32));
        assert_eq!(decoded_len(86), Some(64));
    }
}
