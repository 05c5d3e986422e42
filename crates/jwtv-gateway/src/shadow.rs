//! The shadow policy's verdicts: for every token the enforced policy
//! accepts, whether the shadow ([`Policy::shadow`]) would have accepted it,
//! counted by result. The token's fate never depends on them.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use jwtv::{Error, ErrorCode, Header};

use crate::policy::Policy;
use crate::verifier::VerifiedRef;

/// A shadow policy and its counters.
#[derive(Debug)]
pub(crate) struct Shadow {
    policy: Policy,
    /// Index 0: the shadow accepts; index `code.to_u32()`: it would reject with that code.
    results: [AtomicU64; ErrorCode::ALL.len() + 1],
}

impl Shadow {
    pub(crate) fn new(policy: Policy) -> Self {
        Self { policy, results: Default::default() }
    }

    /// Judges a token the enforced policy accepted, counts the verdict and returns it.
    pub(crate) fn judge(&self, verified: &VerifiedRef<'_>, now: u64) -> Result<(), ErrorCode> {
        let verdict = self.verdict(verified, now).map_err(|e| e.code());
        let index = match verdict {
            Ok(()) => 0,
            Err(code) => usize::try_from(code.to_u32()).unwrap_or(0),
        };
        if let Some(counter) = self.results.get(index) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        verdict
    }

    fn verdict(&self, verified: &VerifiedRef<'_>, now: u64) -> Result<(), Error> {
        if !self.policy.algorithms().contains(verified.algorithm()) {
            return Err(Error::AlgNotAllowed);
        }
        let header: Header<'_> = verified.header()?;
        let claims = verified.claims()?;
        self.policy.with_policy(|policy| policy.check(&header, &claims, now))
    }

    /// The verdicts counted: index 0 accepted, then by code in [`ErrorCode::ALL`] order.
    pub(crate) fn counts(&self) -> [u64; ErrorCode::ALL.len() + 1] {
        let mut counts = [0; ErrorCode::ALL.len() + 1];
        if let (Some(first), Some(ok)) = (counts.first_mut(), self.results.first()) {
            *first = ok.load(Ordering::Relaxed);
        }
        for (slot, code) in counts.iter_mut().skip(1).zip(ErrorCode::ALL) {
            let index = usize::try_from(code.to_u32()).unwrap_or(0);
            *slot = self.results.get(index).map_or(0, |c| c.load(Ordering::Relaxed));
        }
        counts
    }
}

/// `jwtv_shadow_verifications_total{result}` of [`Shadow::counts`]: `ok` and every error code.
pub(crate) fn to_prometheus(counts: &[u64; ErrorCode::ALL.len() + 1]) -> String {
    let name = "jwtv_shadow_verifications_total";
    let mut out = format!(
        "# HELP {name} Tokens the enforced policy accepted, by the shadow policy's verdict (ok or the error code \
         it would have rejected them with).\n# TYPE {name} counter\n"
    );
    let mut counts = counts.iter();
    let _ = writeln!(out, "{name}{{result=\"ok\"}} {}", counts.next().unwrap_or(&0));
    for (code, count) in ErrorCode::ALL.iter().zip(counts) {
        let _ = writeln!(out, "{name}{{result=\"{}\"}} {count}", code.as_str());
    }
    out
}
