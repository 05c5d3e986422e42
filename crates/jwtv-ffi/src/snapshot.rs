//! Snapshots of a verifier's counters as words, for hosts that run one
//! policy in several processes (NGINX workers): each process copies its
//! snapshot into shared memory, and the one that answers a scrape renders
//! the sum. The words' layout is private to libjwtv; C stores, copies and
//! adds them (the retired accumulator) and never reads them.

use std::ffi::c_char;

use jwtv_gateway::MetricsSnapshot;

use crate::boundary::{copy_out, guard, words, write_out};
use crate::status::jwtv_status;
use crate::verifier::jwtv_verifier;

/// Writes to `*len_out` the number of `uint64_t` words in a snapshot of this
/// libjwtv (`jwtv_verifier_snapshot`): the length every snapshot function
/// takes. It changes only with the library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_snapshot_len(len_out: *mut usize) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or writable per the contract.
        unsafe { write_out(len_out, MetricsSnapshot::words_len()) }
    })
}

/// Writes an empty snapshot (every counter 0) to `out`, which holds `len`
/// words (`jwtv_snapshot_len`; `JWTV_INVALID_ARGUMENT` for another length):
/// what a retired accumulator starts as. The accumulator of the snapshots
/// of processes that ended is this, plus each such snapshot added word by
/// word, word 0 aside (`acc[i] += snapshot[i]` for `i >= 1`, wrapping).
/// Its word 0 names the layout: two snapshots with different words 0 come
/// from different libjwtv builds.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_snapshot_empty(out: *mut u64, len: usize) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or `len` writable words per the contract.
        unsafe { write_words(&MetricsSnapshot::default(), out, len) }
    })
}

/// Writes a snapshot of the verifier's counters to `out`, which holds `len`
/// words (`jwtv_snapshot_len`; `JWTV_INVALID_ARGUMENT` for another length).
/// Thread-safe; never blocks on I/O. Copy the words as they are: another
/// process renders them with `jwtv_verifier_metrics_prometheus_sum`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_snapshot(
    verifier: *const jwtv_verifier,
    out: *mut u64,
    len: usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live verifier per the contract.
        let verifier = unsafe { verifier.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        // SAFETY: NULL or `len` writable words per the contract.
        unsafe { write_words(&verifier.inner().metrics(), out, len) }
    })
}

/// Writes, as `jwtv_verifier_metrics_prometheus` does, the metrics of the
/// processes that run this verifier's policy: `snapshots` holds `count`
/// (at least 1) snapshots of `len` words each, back to back, one per running
/// process, the newest first (the calling process's own); `retired` (NULL:
/// none) holds `len` words, the accumulator of the processes that ended
/// (`jwtv_snapshot_empty`). Counters are summed over all of them; the
/// gauges follow the rules of docs/OBSERVABILITY.md (the newest snapshot's,
/// or the largest); the per-key usage table and the `policy` label are this
/// verifier's. `JWTV_INVALID_ARGUMENT` when `len` is not
/// `jwtv_snapshot_len`'s, `count` is 0, or a snapshot is not of this
/// libjwtv's layout. Strings out as the conventions say.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_metrics_prometheus_sum(
    verifier: *const jwtv_verifier,
    snapshots: *const u64,
    count: usize,
    len: usize,
    retired: *const u64,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live verifier per the contract.
        let verifier = unsafe { verifier.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        if len != MetricsSnapshot::words_len() || count == 0 {
            return Err(jwtv_status::JWTV_INVALID_ARGUMENT);
        }
        let total = count.checked_mul(len).ok_or(jwtv_status::JWTV_INVALID_ARGUMENT)?;
        // SAFETY: `count * len` readable words per the contract.
        let all = unsafe { words(snapshots, total) }?;
        let retired = if retired.is_null() {
            None
        } else {
            // SAFETY: `len` readable words per the contract.
            Some(unsafe { words(retired, len) }?)
        };
        let live: Vec<&[u64]> = all.chunks_exact(len).collect();
        let sum = MetricsSnapshot::sum(&live, retired).ok_or(jwtv_status::JWTV_INVALID_ARGUMENT)?;
        let text = verifier.inner().metrics_prometheus_with(&sum);
        // SAFETY: buffer contract forwarded.
        unsafe { copy_out(text.as_bytes(), buf, buf_cap, len_out) }
    })
}

/// Writes `snapshot`'s words to `out` when it holds exactly that many.
///
/// # Safety
/// `out` is NULL or points to `len` writable, aligned words.
unsafe fn write_words(snapshot: &MetricsSnapshot, out: *mut u64, len: usize) -> Result<(), jwtv_status> {
    if out.is_null() {
        return Err(jwtv_status::JWTV_NULL_ARGUMENT);
    }
    let words = snapshot.to_words();
    if len != words.len() || !out.is_aligned() {
        return Err(jwtv_status::JWTV_INVALID_ARGUMENT);
    }
    // SAFETY: `out` holds `len` writable words, and does not overlap
    // `words`, which Rust owns.
    unsafe { std::ptr::copy_nonoverlapping(words.as_ptr(), out, len) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::ptr;

    use super::*;
    use crate::verifier::{jwtv_verifier_free, jwtv_verifier_from_policy_json, jwtv_verifier_verify};

    const ES256_TOKEN: &str = include_str!("../../../examples/tokens/valid-es256.jwt");

    /// A verifier of examples/jwks.json named "orders", with `valid` tokens
    /// verified and `expired` rejected.
    fn verifier(valid: usize, expired: usize) -> *mut jwtv_verifier {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples\0");
        let json = br#"{"name":"orders","keys":{"jwks_file":"jwks.json"},"algorithms":["ES256"],"audiences":["api"]}"#;
        let mut verifier = ptr::null_mut();
        // SAFETY: a document of json.len() bytes, a NUL-terminated folder, a valid out-pointer.
        let status = unsafe {
            jwtv_verifier_from_policy_json(
                json.as_ptr(),
                json.len(),
                dir.as_ptr().cast(),
                &mut verifier,
                ptr::null_mut(),
                0,
            )
        };
        assert_eq!(status, jwtv_status::JWTV_OK);
        let token = ES256_TOKEN.trim();
        for (count, now) in [(valid, 1_800_000_000), (expired, 4_200_000_000)] {
            for _ in 0..count {
                // SAFETY: a live verifier and a token of token.len() bytes.
                unsafe {
                    jwtv_verifier_verify(
                        verifier,
                        token.as_ptr(),
                        token.len(),
                        now,
                        ptr::null_mut(),
                        ptr::null_mut(),
                        0,
                    )
                };
            }
        }
        verifier
    }

    fn len() -> usize {
        let mut len = 0;
        // SAFETY: a valid out-pointer.
        assert_eq!(unsafe { jwtv_snapshot_len(&mut len) }, jwtv_status::JWTV_OK);
        len
    }

    fn snapshot(verifier: *const jwtv_verifier) -> Vec<u64> {
        let mut words = vec![0; len()];
        // SAFETY: a live verifier and words.len() writable words.
        assert_eq!(unsafe { jwtv_verifier_snapshot(verifier, words.as_mut_ptr(), words.len()) }, jwtv_status::JWTV_OK);
        words
    }

    /// `jwtv_verifier_metrics_prometheus_sum`'s status and text.
    fn render(
        verifier: *const jwtv_verifier,
        live: &[u64],
        count: usize,
        retired: Option<&[u64]>,
    ) -> (jwtv_status, String) {
        let retired = retired.map_or(ptr::null(), <[u64]>::as_ptr);
        let mut needed = 0;
        // SAFETY: `count * len()` words at `live` (or fewer, for the refusals), a length query.
        let status = unsafe {
            jwtv_verifier_metrics_prometheus_sum(
                verifier,
                live.as_ptr(),
                count,
                len(),
                retired,
                ptr::null_mut(),
                0,
                &mut needed,
            )
        };
        if status != jwtv_status::JWTV_BUFFER_TOO_SMALL {
            return (status, String::new());
        }
        let mut buf = vec![0u8; needed + 1];
        // SAFETY: as above, into a buffer of buf.len() bytes.
        let status = unsafe {
            jwtv_verifier_metrics_prometheus_sum(
                verifier,
                live.as_ptr(),
                count,
                len(),
                retired,
                buf.as_mut_ptr().cast(),
                buf.len(),
                ptr::null_mut(),
            )
        };
        buf.truncate(needed);
        (status, String::from_utf8(buf).expect("UTF-8"))
    }

    #[test]
    fn two_workers_and_a_retired_one_render_as_one() {
        let (first, second, gone) = (verifier(2, 1), verifier(3, 0), verifier(4, 2));
        let mut live = snapshot(first);
        live.extend(snapshot(second));
        let mut retired = vec![0; len()];
        // SAFETY: retired.len() writable words.
        assert_eq!(unsafe { jwtv_snapshot_empty(retired.as_mut_ptr(), retired.len()) }, jwtv_status::JWTV_OK);
        // What C does when a process ends: every word but the first added.
        for (sum, word) in retired.iter_mut().zip(snapshot(gone)).skip(1) {
            *sum = sum.wrapping_add(word);
        }
        let (status, text) = render(first, &live, 2, Some(&retired));
        assert_eq!(status, jwtv_status::JWTV_OK);
        for line in [
            "jwtv_verifications_total{policy=\"orders\",result=\"ok\"} 9\n",
            "jwtv_verifications_total{policy=\"orders\",result=\"expired\"} 3\n",
            "jwtv_verification_duration_seconds_count{policy=\"orders\",outcome=\"valid\"} 9\n",
            "jwtv_keys{policy=\"orders\"} 1\n",
            "jwtv_key_verifications_total{policy=\"orders\",kid=\"test-es256\"} 2\n", // the first verifier's own table
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        // One snapshot, no retired: the verifier's own text.
        let (status, text) = render(second, &snapshot(second), 1, None);
        assert_eq!(status, jwtv_status::JWTV_OK);
        assert!(text.contains("jwtv_verifications_total{policy=\"orders\",result=\"ok\"} 3\n"), "{text}");
        for verifier in [first, second, gone] {
            // SAFETY: made above, freed once.
            unsafe { jwtv_verifier_free(verifier) };
        }
    }

    #[test]
    fn lengths_layouts_and_pointers_are_checked() {
        let verifier = verifier(1, 0);
        let words = snapshot(verifier);
        let mut out = vec![7u64; len() + 1];
        for n in [0, len() - 1, len() + 1] {
            // SAFETY: out holds at least n writable words.
            let status = unsafe { jwtv_verifier_snapshot(verifier, out.as_mut_ptr(), n) };
            assert_eq!(status, jwtv_status::JWTV_INVALID_ARGUMENT);
            // SAFETY: as above.
            assert_eq!(unsafe { jwtv_snapshot_empty(out.as_mut_ptr(), n) }, jwtv_status::JWTV_INVALID_ARGUMENT);
        }
        assert!(out.iter().all(|&w| w == 7), "nothing written on failure");
        // SAFETY: NULL pointers are refused before any use.
        unsafe {
            assert_eq!(jwtv_verifier_snapshot(ptr::null(), out.as_mut_ptr(), len()), jwtv_status::JWTV_NULL_ARGUMENT);
            assert_eq!(jwtv_verifier_snapshot(verifier, ptr::null_mut(), len()), jwtv_status::JWTV_NULL_ARGUMENT);
            assert_eq!(jwtv_snapshot_len(ptr::null_mut()), jwtv_status::JWTV_NULL_ARGUMENT);
        }
        // Misaligned words.
        let bytes = out.as_mut_ptr().cast::<u8>().wrapping_add(1).cast::<u64>();
        // SAFETY: refused before any write: the pointer is misaligned.
        assert_eq!(unsafe { jwtv_verifier_snapshot(verifier, bytes, len()) }, jwtv_status::JWTV_INVALID_ARGUMENT);
        assert_eq!(render(verifier, &words, 0, None).0, jwtv_status::JWTV_INVALID_ARGUMENT);
        let mut foreign = words.clone();
        foreign[0] ^= 1;
        assert_eq!(render(verifier, &foreign, 1, None).0, jwtv_status::JWTV_INVALID_ARGUMENT);
        assert_eq!(render(verifier, &words, 1, Some(&foreign)).0, jwtv_status::JWTV_INVALID_ARGUMENT);
        assert_eq!(render(ptr::null(), &words, 1, None).0, jwtv_status::JWTV_NULL_ARGUMENT);
        // SAFETY: a count whose words overflow is refused before any read.
        let status = unsafe {
            jwtv_verifier_metrics_prometheus_sum(
                verifier,
                words.as_ptr(),
                usize::MAX,
                len(),
                ptr::null(),
                ptr::null_mut(),
                0,
                ptr::null_mut(),
            )
        };
        assert_eq!(status, jwtv_status::JWTV_INVALID_ARGUMENT);
        // SAFETY: made above, freed once.
        unsafe { jwtv_verifier_free(verifier) };
    }
}
