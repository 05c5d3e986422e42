package jwtv

/*
#include <stdlib.h>
#include <string.h>
#include "jwtv.h"

// The audit event of one verification, copied in C out of libjwtv's
// callback (so that no Go code runs inside libjwtv), then read and freed by
// Go once jwtv_verifier_verify has returned.
typedef struct {
	int seen;
	jwtv_status code;
	char *strings[6]; // alg, kid, iss, jti, sub_hash, policy: copies, NULL when absent
	size_t token_len;
} jwtv_go_audit;

// Where the verification running on this thread wants its event (NULL: none).
static _Thread_local jwtv_go_audit *jwtv_go_audit_current;

// Copies made and not yet freed (the tests check that none is left).
static long jwtv_go_audit_copies;

static char *jwtv_go_audit_copy(const char *s) {
	size_t len;
	char *copy;
	if (s == NULL) return NULL;
	len = strlen(s);
	copy = malloc(len + 1);
	if (copy == NULL) abort(); // as Go does when it runs out of memory
	memcpy(copy, s, len + 1);
	__atomic_add_fetch(&jwtv_go_audit_copies, 1, __ATOMIC_RELAXED);
	return copy;
}

static void jwtv_go_audit_callback(const jwtv_audit_event *event, void *user) {
	jwtv_go_audit *audit = jwtv_go_audit_current;
	const char *strings[6] = {event->alg, event->kid, event->iss, event->jti, event->sub_hash, event->policy};
	(void)user;
	if (audit == NULL || audit->seen) return;
	audit->seen = 1;
	audit->code = event->code;
	audit->token_len = event->token_len;
	for (int i = 0; i < 6; i++) audit->strings[i] = jwtv_go_audit_copy(strings[i]);
}

static jwtv_status jwtv_go_verify_audited(const jwtv_verifier *verifier, const uint8_t *token, size_t token_len,
                                          uint64_t now, jwtv_token **out, char *detail, size_t detail_cap,
                                          jwtv_go_audit *audit) {
	jwtv_status status;
	jwtv_go_audit_current = audit;
	status = jwtv_verifier_verify(verifier, token, token_len, now, out, detail, detail_cap);
	jwtv_go_audit_current = NULL;
	return status;
}

static void jwtv_go_audit_free(jwtv_go_audit *audit) {
	for (int i = 0; i < 6; i++) {
		if (audit->strings[i] != NULL) {
			free(audit->strings[i]);
			audit->strings[i] = NULL;
			__atomic_sub_fetch(&jwtv_go_audit_copies, 1, __ATOMIC_RELAXED);
		}
	}
}

static jwtv_status jwtv_go_set_audit(const jwtv_verifier *verifier, int on) {
	return jwtv_verifier_set_audit_callback(verifier, on ? jwtv_go_audit_callback : NULL, NULL);
}

static long jwtv_go_audit_copies_left(void) {
	return __atomic_load_n(&jwtv_go_audit_copies, __ATOMIC_RELAXED);
}
*/
import "C"

import "strconv"

// AuditEvent is what libjwtv says of a token it rejected (see
// Verifier.SetAudit): the same fields as the audit events of every jwtv host
// (docs/OBSERVABILITY.md, "Audit events"), never the token.
//
// Algorithm, KeyID, Issuer and ID come from the token read without trusting
// it, cut to 128 characters and escaped by libjwtv (Rust's escaping:
// quotes, backslashes and every control or invisible formatting character
// written as \n, \u{1b}, \0, \"…), so they hold no control character and
// can be logged as they are. A handler that quotes strings itself (slog's
// TextHandler) escapes their backslashes once more.
type AuditEvent struct {
	// Code says why the token was rejected: a rejection code
	// (CodeUnavailable: not judged, the key set has not loaded yet).
	Code Code
	// Algorithm is the header's "alg", escaped; "" if none.
	Algorithm string
	// KeyID is the header's "kid", escaped; "" if none.
	KeyID string
	// Issuer is the "iss" claim, escaped; "" if none.
	Issuer string
	// ID is the "jti" claim, escaped; "" if none.
	ID string
	// SubjectHash is a keyed hash of the "sub" claim (16 hex digits, under
	// a key drawn once per process): equal subjects give equal hashes
	// within the process, and the subject itself is never told; "" if
	// none.
	SubjectHash string
	// TokenLen is the token's length in bytes.
	TokenLen int
	// Policy is the policy's name (Config.Name); "" if none.
	Policy string
}

// Args returns the event as alternating keys and values, with the field
// names of every host's events (code, alg, kid, iss, jti, sub_hash,
// token_len, policy), for log/slog (Go 1.21 and later):
//
//	v.SetAudit(func(ev jwtv.AuditEvent) { logger.Warn("jwt rejected", ev.Args()...) })
func (e AuditEvent) Args() []any {
	return []any{
		"code", e.Code.String(),
		"alg", e.Algorithm,
		"kid", e.KeyID,
		"iss", e.Issuer,
		"jti", e.ID,
		"sub_hash", e.SubjectHash,
		"token_len", e.TokenLen,
		"policy", e.Policy,
	}
}

// String is the event as the Rust host's "log" events write it, for
// log.Printf("token rejected %v", ev):
//
//	code=key_not_found alg="ES256" kid="k\n1" iss=- jti="j-1" sub_hash=- token_len=62 policy=orders-api
//
// Values from the token in quotes (already escaped, so a quote inside is
// \"), "-" for an empty one.
func (e AuditEvent) String() string {
	quoted := func(s string) string {
		if s == "" {
			return "-"
		}
		return `"` + s + `"`
	}
	plain := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return "code=" + e.Code.String() +
		" alg=" + quoted(e.Algorithm) +
		" kid=" + quoted(e.KeyID) +
		" iss=" + quoted(e.Issuer) +
		" jti=" + quoted(e.ID) +
		" sub_hash=" + plain(e.SubjectHash) +
		" token_len=" + strconv.Itoa(e.TokenLen) +
		" policy=" + plain(e.Policy)
}

// SetAudit makes f receive the AuditEvent of every token the verifier
// rejects: every rejection code, CodeUnavailable included (a token not
// judged while the key set has not loaded: its "kid" is what an operator
// looks for), through Verify, VerifyAt, VerifyContext and the middleware.
// Accepted tokens give none, nor do calls libjwtv refuses before judging a
// token (ErrClosed, a context that ended, a request without a token). A nil
// f stops the events.
//
// f runs on the goroutine that verifies, once libjwtv has returned and
// before Verify does, so it may be called from many goroutines at once. A
// panic in f reaches Verify's caller. SetAudit waits for verifications in
// progress; after Close it does nothing.
func (v *Verifier) SetAudit(f func(AuditEvent)) {
	on := C.int(0)
	if f != nil {
		on = 1
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ptr == nil {
		return
	}
	if C.jwtv_go_set_audit(v.ptr, on) == C.JWTV_OK {
		v.audit = f
	}
}

// verifyC is one call of jwtv_verifier_verify. With audit, it also returns
// the event of a rejection, copied out of libjwtv and freed before it
// returns.
func verifyC(ptr *C.jwtv_verifier, data *C.uint8_t, n C.size_t, now C.uint64_t, out **C.jwtv_token, detail *C.char,
	audit bool) (C.jwtv_status, *AuditEvent) {
	if !audit {
		return C.jwtv_verifier_verify(ptr, data, n, now, out, detail, detailCap), nil
	}
	// ev is Go memory that holds no Go pointers, lent to C for the call.
	var ev C.jwtv_go_audit
	status := C.jwtv_go_verify_audited(ptr, data, n, now, out, detail, detailCap, &ev)
	defer C.jwtv_go_audit_free(&ev)
	if ev.seen == 0 {
		return status, nil
	}
	text := func(i int) string {
		if ev.strings[i] == nil {
			return ""
		}
		return C.GoString(ev.strings[i])
	}
	return status, &AuditEvent{
		Code:        Code(ev.code),
		Algorithm:   text(0),
		KeyID:       text(1),
		Issuer:      text(2),
		ID:          text(3),
		SubjectHash: text(4),
		Policy:      text(5),
		TokenLen:    int(ev.token_len),
	}
}

// auditCopiesLeft counts the C copies of event strings not freed yet.
func auditCopiesLeft() int {
	return int(C.jwtv_go_audit_copies_left())
}
