//! What every exported function goes through: a panic boundary, and the
//! checked conversion of C arguments.

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use jwtv_gateway::PolicyError;

use crate::status::jwtv_status;

/// Runs `body`, turning a panic into [`jwtv_status::JWTV_INTERNAL_ERROR`]: no
/// unwinding ever crosses into C.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), jwtv_status>) -> jwtv_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => jwtv_status::JWTV_OK,
        Ok(Err(status)) => status,
        Err(_) => jwtv_status::JWTV_INTERNAL_ERROR,
    }
}

/// Like [`guard`] for functions that return nothing (the `_free`s).
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// The UTF-8 text of a NUL-terminated C string.
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated string valid for the call.
pub(crate) unsafe fn text<'a>(s: *const c_char) -> Result<&'a str, jwtv_status> {
    if s.is_null() {
        return Err(jwtv_status::JWTV_NULL_ARGUMENT);
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string.
    let c = unsafe { CStr::from_ptr(s) };
    c.to_str().map_err(|_| jwtv_status::JWTV_INVALID_UTF8)
}

/// Like [`text`], with NULL meaning "absent".
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn optional_text<'a>(s: *const c_char) -> Result<Option<&'a str>, jwtv_status> {
    if s.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { text(s) }.map(Some)
    }
}

/// The most bytes any byte-slice argument may claim (1 GiB): larger lengths
/// are bugs in the caller, refused before any use.
pub(crate) const MAX_INPUT_LEN: usize = 1 << 30;

/// A byte slice from a pointer and a length. A zero length may come with any
/// pointer, NULL included.
///
/// # Safety
/// When `len > 0`, `ptr` points to `len` readable bytes valid for the call.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], jwtv_status> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(jwtv_status::JWTV_NULL_ARGUMENT);
    }
    if len > MAX_INPUT_LEN {
        return Err(jwtv_status::JWTV_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, `len` bounded, and the caller promises `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// `len` words (`uint64_t`) from a pointer: non-NULL unless `len` is 0,
/// aligned, and no more than [`MAX_INPUT_LEN`] bytes.
///
/// # Safety
/// When `len > 0`, `ptr` points to `len` readable words valid for the call.
pub(crate) unsafe fn words<'a>(ptr: *const u64, len: usize) -> Result<&'a [u64], jwtv_status> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(jwtv_status::JWTV_NULL_ARGUMENT);
    }
    if len > MAX_INPUT_LEN / size_of::<u64>() || !ptr.is_aligned() {
        return Err(jwtv_status::JWTV_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, aligned, `len` bounded, and the caller promises `len` readable words.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Copies `value` and a NUL into the caller's buffer. Always writes the
/// needed size (bytes without the NUL) to `*len_out` when it is non-NULL;
/// [`jwtv_status::JWTV_BUFFER_TOO_SMALL`] when `buf` cannot hold it.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes; `len_out` is NULL or
/// points to a writable `size_t`.
pub(crate) unsafe fn copy_out(
    value: &[u8],
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> Result<(), jwtv_status> {
    if !len_out.is_null() {
        // SAFETY: non-NULL and writable per the contract.
        unsafe { len_out.write(value.len()) };
    }
    if buf.is_null() || cap <= value.len() {
        return Err(jwtv_status::JWTV_BUFFER_TOO_SMALL);
    }
    // SAFETY: `buf` holds `cap > value.len()` writable bytes, and does not
    // overlap `value`, which lives in Rust-owned memory.
    unsafe {
        std::ptr::copy_nonoverlapping(value.as_ptr(), buf.cast::<u8>(), value.len());
        buf.cast::<u8>().add(value.len()).write(0);
    }
    Ok(())
}

/// The one way a string taken from a token (a claim, a header parameter, an
/// audience) reaches C: [`copy_out`], except that a value holding a NUL byte
/// (a JSON `\u0000` escape) is refused with `JWTV_EMBEDDED_NUL` and nothing
/// is written, since C would read it cut short (`"admin\u0000-evil"` as
/// `"admin"`).
///
/// # Safety
/// As [`copy_out`].
pub(crate) unsafe fn copy_c_string(
    value: &str,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> Result<(), jwtv_status> {
    if value.as_bytes().contains(&0) {
        return Err(jwtv_status::JWTV_EMBEDDED_NUL);
    }
    // SAFETY: forwarded contract.
    unsafe { copy_out(value.as_bytes(), buf, cap, len_out) }
}

/// The C-string sink of an audit event's values, already escaped by
/// `jwtv_gateway::AuditEvent` (which writes U+0000 as `\0`): the whole value
/// and a NUL, in a string of its own, so never cut to fit a buffer. A value
/// holding a NUL anyway would be left out (`None`: NULL for C), never cut at
/// the NUL.
pub(crate) fn audit_c_string(escaped: &str) -> Option<CString> {
    CString::new(escaped).ok()
}

/// Sets a handle out-parameter to NULL when it is non-NULL: what it holds
/// after any failure of the call that starts with this.
///
/// # Safety
/// `out` is NULL or points to writable memory for a pointer.
pub(crate) unsafe fn clear_out<T>(out: *mut *mut T) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(std::ptr::null_mut()) };
    }
}

/// Writes `value` through an out-pointer.
///
/// # Safety
/// `out` is NULL or points to writable memory for a `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) -> Result<(), jwtv_status> {
    if out.is_null() {
        return Err(jwtv_status::JWTV_NULL_ARGUMENT);
    }
    // SAFETY: non-NULL and writable per the contract.
    unsafe { out.write(value) };
    Ok(())
}

/// Writes `message` to `err` (when non-NULL), NUL-terminated, cut at a
/// character boundary to `err_cap - 1` bytes.
pub(crate) fn write_error(message: &str, err: *mut c_char, err_cap: usize) {
    if err.is_null() || err_cap == 0 {
        return;
    }
    let max = err_cap - 1;
    let mut end = message.len().min(max);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let message = message.as_bytes().get(..end).unwrap_or_default();
    // SAFETY: `err` holds `err_cap` writable bytes per the caller's contract;
    // the message fits, so the copy cannot fail.
    let _ = unsafe { copy_out(message, err, err_cap, std::ptr::null_mut()) };
}

/// A policy error as `JWTV_CONFIG_ERROR`, its message (`field: what`) in `err`.
pub(crate) fn config_error(e: &PolicyError, err: *mut c_char, err_cap: usize) -> jwtv_status {
    write_error(&e.to_string(), err, err_cap);
    jwtv_status::JWTV_CONFIG_ERROR
}
