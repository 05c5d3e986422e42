//! Compact JWS tokens: splitting, decoding, key selection and verification.

use crate::alg::Algorithm;
use crate::b64;
use crate::claims::Claims;
use crate::error::{Error, Part};
use crate::header::Header;
use crate::key::VerifyingKey;
use crate::policy::{Failures, Policy};

/// A buffer length that holds the decoded header and payload of any token
/// within the default 16 KiB limit ([`DEFAULT_MAX_TOKEN_LEN`](crate::DEFAULT_MAX_TOKEN_LEN)).
pub const DEFAULT_BUFFER_LEN: usize = 12 * 1024;

/// The longest decoded signature accepted: an RSA-8192 signature.
pub const MAX_SIGNATURE_LEN: usize = 1024;

/// The buffer length needed for a token of `token_len` bytes.
pub const fn buffer_len_for(token_len: usize) -> usize {
    token_len / 4 * 3 + 3
}

/// The three base64url segments of a compact JWS.
#[derive(Clone, Copy, Debug)]
struct Segments<'t> {
    header: &'t [u8],
    payload: &'t [u8],
    signature: &'t [u8],
    /// `header '.' payload`: the bytes the signature covers.
    signing_input: &'t [u8],
}

impl<'t> Segments<'t> {
    /// Splits after the size check; exactly three non-empty segments.
    fn split(token: &'t [u8], max_len: usize) -> Result<Self, Error> {
        if token.len() > max_len {
            return Err(Error::TooLarge);
        }
        // Exactly two dots. Counting them in byte-wide lanes (chunks of at most
        // 255 bytes, so a `u8` count cannot overflow) is a branch-free loop the
        // compiler vectorizes; a byte-at-a-time split of the whole token cost
        // about as much as the HMAC of an 800-byte token. The two searches then
        // walk only the header and the signature, eight bytes at a time.
        let dots: usize = token
            .chunks(usize::from(u8::MAX))
            .map(|chunk| usize::from(chunk.iter().fold(0u8, |n, b| n.wrapping_add(u8::from(*b == b'.')))))
            .sum();
        let (Some(first), Some(last)) = (first_dot(token), last_dot(token)) else {
            return Err(Error::Malformed(Part::Token));
        };
        let (Some(header), Some(payload), Some(signature), Some(signing_input)) = (
            token.get(..first),
            token.get(first.saturating_add(1)..last),
            token.get(last.saturating_add(1)..),
            token.get(..last),
        ) else {
            return Err(Error::Malformed(Part::Token));
        };
        if dots != 2 || header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(Error::Malformed(Part::Token));
        }
        Ok(Self { header, payload, signature, signing_input })
    }
}

/// Flags (the high bit of each byte) exactly the bytes of `word` that are `.`:
/// a byte is flagged when it is zero after XOR, and no carry crosses bytes.
const fn dot_bytes(word: u64) -> u64 {
    const LOW7: u64 = u64::from_le_bytes([0x7F; 8]);
    let x = word ^ u64::from_le_bytes([b'.'; 8]);
    !((x & LOW7).wrapping_add(LOW7) | x | LOW7)
}

/// The index of the byte whose high bit is `bit` in a little-endian word.
fn byte_of_bit(bit: u32) -> usize {
    usize::try_from(bit / 8).unwrap_or(0)
}

/// The position of the first `.`, eight bytes at a time.
fn first_dot(bytes: &[u8]) -> Option<usize> {
    let mut words = bytes.chunks_exact(8);
    let mut at = 0usize;
    for word in &mut words {
        let dots = word.first_chunk::<8>().map_or(0, |w| dot_bytes(u64::from_le_bytes(*w)));
        if dots != 0 {
            return Some(at + byte_of_bit(dots.trailing_zeros()));
        }
        at += 8;
    }
    words.remainder().iter().position(|b| *b == b'.').map(|i| at + i)
}

/// The position of the last `.`, eight bytes at a time from the end.
fn last_dot(bytes: &[u8]) -> Option<usize> {
    let mut words = bytes.rchunks_exact(8);
    let mut end = bytes.len();
    for word in &mut words {
        end -= 8;
        let dots = word.first_chunk::<8>().map_or(0, |w| dot_bytes(u64::from_le_bytes(*w)));
        if dots != 0 {
            return Some(end + byte_of_bit(63 - dots.leading_zeros()));
        }
    }
    words.remainder().iter().rposition(|b| *b == b'.')
}

/// Decodes one segment into the front of `buf`; returns (decoded, rest of buf).
fn decode_segment<'b>(segment: &[u8], buf: &'b mut [u8], part: Part) -> Result<(&'b [u8], &'b mut [u8]), Error> {
    let len = b64::decoded_len(segment.len()).ok_or(Error::Malformed(part))?;
    let (front, rest) = buf.split_at_mut_checked(len).ok_or(Error::TooLarge)?;
    let decoded = b64::decode(segment, front).map_err(|_| Error::Malformed(part))?;
    Ok((decoded, rest))
}

/// Chooses the one key that may verify a token with this header.
///
/// With a `kid`: the keys carrying that kid, else the keys carrying none.
/// Without: every key. Among those, exactly one must have the header's
/// algorithm; if some candidates exist but none has it, `alg_not_allowed`.
/// The one key that may verify the token, with its index in `keys`.
fn select_key<'k>(
    keys: &'k [VerifyingKey],
    header: &Header<'_>,
    alg: Algorithm,
) -> Result<(usize, &'k VerifyingKey), Error> {
    let kid = header.kid();
    let by_kid = |key: &&VerifyingKey| match (kid, key.kid()) {
        (Some(want), Some(have)) => want == have,
        _ => false,
    };
    let has_kid_match = kid.is_some() && keys.iter().any(|k| by_kid(&k));
    let candidate = |key: &&VerifyingKey| match kid {
        Some(_) if has_kid_match => by_kid(key),
        Some(_) => key.kid().is_none(),
        None => true,
    };
    let mut candidates = keys.iter().enumerate().filter(|(_, key)| candidate(key)).peekable();
    if candidates.peek().is_none() {
        return Err(Error::KeyNotFound);
    }
    let mut matching = candidates.filter(|(_, k)| k.algorithm() == alg);
    match (matching.next(), matching.next()) {
        (Some(key), None) => Ok(key),
        (None, _) => Err(Error::AlgNotAllowed),
        (Some(_), Some(_)) => Err(Error::KeyNotFound), // ambiguous: never try several keys
    }
}

/// Verifies tokens against a borrowed key set and a [`Policy`].
///
/// Every check a caller relies on happens in [`Verifier::verify`], in this order:
///
/// 1. size ≤ [`Policy::max_token_len`] (`too_large`);
/// 2. three non-empty segments, strict base64url, header a JSON object without
///    duplicate names (`malformed`);
/// 3. `alg` present and supported — never `none` (`missing_claim`, `unsupported_alg`),
///    allowed by the policy (`alg_not_allowed`);
/// 4. `crit` names only understood extensions, no `b64` (`unsupported_crit`);
/// 5. key chosen by `kid` among the caller's keys — never from `jwk`/`jku`/`x5u`/`x5c` —
///    and its pinned algorithm equals `alg` (`key_not_found`, `alg_not_allowed`);
/// 6. signature, HMAC compared in constant time (`bad_signature`);
/// 7. payload a JSON object without duplicate names (`malformed`);
/// 8. claim types, `exp` (required by default), `nbf`, `iat`, max age, `iss`,
///    `aud`, `typ`, required claims and values (see [`Policy`]).
#[derive(Clone, Copy, Debug)]
pub struct Verifier<'a> {
    keys: &'a [VerifyingKey],
    policy: Policy<'a>,
}

impl<'a> Verifier<'a> {
    /// A verifier for these keys under this policy.
    pub const fn new(keys: &'a [VerifyingKey], policy: Policy<'a>) -> Self {
        Self { keys, policy }
    }

    /// The policy.
    pub const fn policy(&self) -> &Policy<'a> {
        &self.policy
    }

    /// The keys.
    pub const fn keys(&self) -> &'a [VerifyingKey] {
        self.keys
    }

    /// Verifies a compact JWT at time `now` (Unix seconds), decoding into `buf`.
    ///
    /// `buf` must hold the decoded header and payload: [`DEFAULT_BUFFER_LEN`]
    /// bytes suffice under the default size limit, [`buffer_len_for`] gives the
    /// exact bound (`too_large` when it is too small). Returns the first failure.
    pub fn verify<'b>(&self, token: impl AsRef<[u8]>, now: u64, buf: &'b mut [u8]) -> Result<VerifiedToken<'b>, Error> {
        let (key_index, alg, header, payload) = self.verify_signature(token.as_ref(), buf)?;
        let claims = Claims::parse(payload, |_, _| ())?;
        self.policy.check(&header, &claims, now)?;
        Ok(VerifiedToken { alg, key_index, header, claims })
    }

    /// Like [`Verifier::verify`], but reports every failing header and claim
    /// check at once (structure, key and signature failures still end the run).
    pub fn verify_all<'b>(
        &self,
        token: impl AsRef<[u8]>,
        now: u64,
        buf: &'b mut [u8],
    ) -> Result<VerifiedToken<'b>, Failures> {
        let (key_index, alg, header, payload) = self.verify_signature(token.as_ref(), buf).map_err(Failures::one)?;
        let claims = Claims::parse(payload, |_, _| ()).map_err(Failures::one)?;
        let failures = self.policy.check_all(&header, &claims, now);
        if failures.is_empty() { Ok(VerifiedToken { alg, key_index, header, claims }) } else { Err(failures) }
    }

    /// Verifies a compact JWS whose payload need not be JSON (steps 1–6 of
    /// [`Verifier`]; no claim checks). For non-JWT uses of JWS.
    pub fn verify_jws<'b>(&self, token: impl AsRef<[u8]>, buf: &'b mut [u8]) -> Result<VerifiedJws<'b>, Error> {
        let (key_index, _, header, payload) = self.verify_signature(token.as_ref(), buf)?;
        Ok(VerifiedJws { key_index, header, payload })
    }

    fn verify_signature<'b>(
        &self,
        token: &[u8],
        buf: &'b mut [u8],
    ) -> Result<(usize, Algorithm, Header<'b>, &'b [u8]), Error> {
        let segments = Segments::split(token, self.policy.token_len_limit())?;
        let (header_json, rest) = decode_segment(segments.header, buf, Part::Header)?;
        let header = Header::parse(header_json)?;
        let alg = header.algorithm()?;
        if !self.policy.allows(alg) {
            return Err(Error::AlgNotAllowed);
        }
        header.check_crit(self.policy.understood())?;
        let (key_index, key) = select_key(self.keys, &header, alg)?;

        let mut sig_buf = [0u8; MAX_SIGNATURE_LEN];
        let (signature, _) =
            decode_segment(segments.signature, &mut sig_buf, Part::Signature).map_err(|e| match e {
                Error::TooLarge => Error::BadSignature, // longer than any valid signature
                other => other,
            })?;
        key.verify_signature(segments.signing_input, signature)?;

        let (payload, _) = decode_segment(segments.payload, rest, Part::Payload)?;
        Ok((key_index, alg, header, payload))
    }
}

/// A JWT whose signature and claims were verified. Borrows the decode buffer.
///
/// The only way to obtain one is [`Verifier::verify`] (or `verify_all`).
#[derive(Clone, Copy, Debug)]
pub struct VerifiedToken<'b> {
    alg: Algorithm,
    key_index: usize,
    header: Header<'b>,
    claims: Claims<'b>,
}

impl<'b> VerifiedToken<'b> {
    /// The protected header.
    pub fn header(&self) -> &Header<'b> {
        &self.header
    }

    /// The verified claims.
    pub fn claims(&self) -> &Claims<'b> {
        &self.claims
    }

    /// The algorithm that verified the token.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The index, in [`Verifier::keys`], of the key that verified the
    /// signature (say, to check that key's `kid` against a revocation list
    /// when the token names no `kid`).
    pub fn key_index(&self) -> usize {
        self.key_index
    }
}

/// A JWS whose signature was verified; the payload is opaque bytes.
#[derive(Clone, Copy, Debug)]
pub struct VerifiedJws<'b> {
    key_index: usize,
    header: Header<'b>,
    payload: &'b [u8],
}

impl<'b> VerifiedJws<'b> {
    /// The protected header.
    pub fn header(&self) -> &Header<'b> {
        &self.header
    }

    /// The verified payload bytes.
    pub fn payload(&self) -> &'b [u8] {
        self.payload
    }

    /// The index, in [`Verifier::keys`], of the key that verified the signature.
    pub fn key_index(&self) -> usize {
        self.key_index
    }
}

/// A token decoded **without any verification**, for diagnosis and logging.
///
/// Nothing in it is trustworthy: anyone can write any header and claims.
/// It offers no conversion into [`VerifiedToken`]; its accessors say
/// `unverified` so that reading them is a visible decision.
#[derive(Clone, Copy, Debug)]
pub struct UnverifiedToken<'b> {
    header: Header<'b>,
    payload: &'b [u8],
    signature_len: usize,
}

impl<'b> UnverifiedToken<'b> {
    /// Decodes a token's header and payload without checking its signature.
    ///
    /// Structure and base64url are checked as strictly as by [`Verifier`];
    /// the payload need not be JSON ([`UnverifiedToken::unverified_claims`] tells).
    pub fn decode(token: impl AsRef<[u8]>, max_len: usize, buf: &'b mut [u8]) -> Result<Self, Error> {
        let segments = Segments::split(token.as_ref(), max_len)?;
        let (header_json, rest) = decode_segment(segments.header, buf, Part::Header)?;
        let header = Header::parse(header_json)?;
        let (payload, _) = decode_segment(segments.payload, rest, Part::Payload)?;
        let mut sig_buf = [0u8; MAX_SIGNATURE_LEN];
        let (signature, _) = decode_segment(segments.signature, &mut sig_buf, Part::Signature)
            .map_err(|_| Error::Malformed(Part::Signature))?;
        let signature_len = signature.len();
        Ok(Self { header, payload, signature_len })
    }

    /// The header, unverified.
    pub fn unverified_header(&self) -> &Header<'b> {
        &self.header
    }

    /// The claims, unverified; `malformed` when the payload is not a JSON object.
    pub fn unverified_claims(&self) -> Result<Claims<'b>, Error> {
        Claims::parse(self.payload, |_, _| ())
    }

    /// The payload bytes, unverified.
    pub fn unverified_payload(&self) -> &'b [u8] {
        self.payload
    }

    /// The decoded signature length in bytes (the signature itself is not exposed).
    pub fn signature_len(&self) -> usize {
        self.signature_len
    }

    /// Every failing header and claim check under `policy` at `now`, as a
    /// diagnosis: says nothing about the signature.
    pub fn check_unverified(&self, policy: &Policy<'_>, now: u64) -> Failures {
        match self.unverified_claims() {
            Ok(claims) => policy.check_all(&self.header, &claims, now),
            Err(e) => Failures::one(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_search_finds_the_first_and_last_dot_at_every_position() {
        for len in 0..40 {
            for a in 0..len {
                for b in a..len {
                    let mut bytes = std::vec![b'x'; len];
                    bytes[a] = b'.';
                    bytes[b] = b'.';
                    // Neighbours that differ from '.' in one bit must not match.
                    for (i, byte) in bytes.iter_mut().enumerate() {
                        if *byte != b'.' && i % 3 == 0 {
                            *byte = [b'/', b'-', 0xAE, b'n'][i % 4];
                        }
                    }
                    assert_eq!(first_dot(&bytes), Some(a), "{len} {a} {b}");
                    assert_eq!(last_dot(&bytes), Some(b), "{len} {a} {b}");
                }
            }
            assert_eq!((first_dot(&std::vec![b'x'; len]), last_dot(&std::vec![0xAE; len])), (None, None));
        }
    }

    #[test]
    fn split_needs_exactly_three_non_empty_segments() {
        let ok = Segments::split(b"aa.bbb.c", 100).unwrap();
        assert_eq!(
            (ok.header, ok.payload, ok.signature, ok.signing_input),
            (&b"aa"[..], &b"bbb"[..], &b"c"[..], &b"aa.bbb"[..])
        );
        for bad in [&b"a.b"[..], b"a.b.c.d", b".b.c", b"a..c", b"a.b.", b"abc", b"", b"...", b"a.b.c.d.e.f.g.h.i"] {
            assert!(matches!(Segments::split(bad, 100), Err(Error::Malformed(Part::Token))), "{bad:?}");
        }
        assert!(matches!(Segments::split(b"a.b.c", 4), Err(Error::TooLarge)));
    }
}
