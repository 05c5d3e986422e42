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

/// Set in a lookup for a byte outside the alphabet; no valid lookup reaches bit 24.
const INVALID: u32 = 1 << 24;

/// Four lookup tables, one per position in a quad, whose entries already sit
/// where their bits land in the three output bytes (little-endian in a `u32`):
/// a quad decodes with four loads and three ORs, and any foreign byte sets
/// [`INVALID`].
#[expect(
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    clippy::indexing_slicing,
    reason = "evaluated at compile time over i < 64: an out-of-bounds index fails the build"
)]
static DECODE: [[u32; 256]; 4] = {
    let mut tables = [[INVALID; 256]; 4];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < 64 {
        let v = i as u32;
        let c = alphabet[i] as usize;
        tables[0][c] = v << 2; // out0 = a << 2 | b >> 4
        tables[1][c] = (v >> 4) | ((v & 0x0F) << 12); // out1 = (b & 15) << 4 | c >> 2
        tables[2][c] = ((v >> 2) << 8) | ((v & 0x03) << 22); // out2 = (c & 3) << 6 | d
        tables[3][c] = v << 16;
        i += 1;
    }
    tables
};

#[inline(always)]
fn lookup(position: usize, b: u8) -> u32 {
    DECODE.get(position).and_then(|t| t.get(usize::from(b))).copied().unwrap_or(INVALID)
}

/// The base64url input was invalid (any reason; callers map it to the token part).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidBase64;

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
    // Lookups are OR-ed together and checked once, after the loop.
    let mut bad = 0u32;
    for (quad, triple) in (&mut quads).zip(&mut triples) {
        if let ([a, b, c, d], [x, y, z]) = (quad, triple) {
            let n = lookup(0, *a) | lookup(1, *b) | lookup(2, *c) | lookup(3, *d);
            bad |= n;
            let [n0, n1, n2, _] = n.to_le_bytes();
            (*x, *y, *z) = (n0, n1, n2);
        }
    }
    match (quads.remainder(), triples.into_remainder()) {
        ([], []) => {}
        ([a, b], [x]) => {
            let n = lookup(0, *a) | lookup(1, *b);
            // The second character's 4 low bits fall into a byte that is not
            // output: they must be zero (canonical encoding).
            let [n0, n1, _, _] = n.to_le_bytes();
            bad |= n | u32::from(n1 != 0) << 24;
            *x = n0;
        }
        ([a, b, c], [x, y]) => {
            let n = lookup(0, *a) | lookup(1, *b) | lookup(2, *c);
            // The third character's 2 low bits must be zero (canonical encoding).
            let [n0, n1, n2, _] = n.to_le_bytes();
            bad |= n | u32::from(n2 != 0) << 24;
            (*x, *y) = (n0, n1);
        }
        _ => return Err(InvalidBase64),
    }
    if bad & INVALID != 0 {
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
