package jwtv

/*
#include "jwtv.h"
*/
import "C"

import "errors"

// Code is a libjwtv status: the C enum jwtv_status, with the same numbers.
//
// 1–99 are the verifier's rejection codes (why a token was refused); 100 and
// above are errors of the call itself (a bad argument or configuration).
// Numbers are stable.
type Code uint32

// The status codes of libjwtv (include/jwtv.h).
const (
	CodeOK              Code = C.JWTV_OK
	CodeMalformed       Code = C.JWTV_MALFORMED
	CodeTooLarge        Code = C.JWTV_TOO_LARGE
	CodeUnsupportedAlg  Code = C.JWTV_UNSUPPORTED_ALG
	CodeAlgNotAllowed   Code = C.JWTV_ALG_NOT_ALLOWED
	CodeKeyNotFound     Code = C.JWTV_KEY_NOT_FOUND
	CodeBadSignature    Code = C.JWTV_BAD_SIGNATURE
	CodeExpired         Code = C.JWTV_EXPIRED
	CodeNotYetValid     Code = C.JWTV_NOT_YET_VALID
	CodeIssuedInFuture  Code = C.JWTV_ISSUED_IN_FUTURE
	CodeTooOld          Code = C.JWTV_TOO_OLD
	CodeBadIssuer       Code = C.JWTV_BAD_ISSUER
	CodeBadAudience     Code = C.JWTV_BAD_AUDIENCE
	CodeBadType         Code = C.JWTV_BAD_TYPE
	CodeMissingClaim    Code = C.JWTV_MISSING_CLAIM
	CodeBadClaim        Code = C.JWTV_BAD_CLAIM
	CodeUnsupportedCrit Code = C.JWTV_UNSUPPORTED_CRIT
	CodeRevoked         Code = C.JWTV_REVOKED
	CodeUnavailable     Code = C.JWTV_UNAVAILABLE
	CodeLifetimeTooLong Code = C.JWTV_LIFETIME_TOO_LONG

	CodeNullArgument    Code = C.JWTV_NULL_ARGUMENT
	CodeInvalidUTF8     Code = C.JWTV_INVALID_UTF8
	CodeBufferTooSmall  Code = C.JWTV_BUFFER_TOO_SMALL
	CodeInvalidArgument Code = C.JWTV_INVALID_ARGUMENT
	CodeConfigError     Code = C.JWTV_CONFIG_ERROR
	CodeNotFound        Code = C.JWTV_NOT_FOUND
	CodeWrongType       Code = C.JWTV_WRONG_TYPE
	CodeEmbeddedNUL     Code = C.JWTV_EMBEDDED_NUL
	CodeInternalError   Code = C.JWTV_INTERNAL_ERROR
)

// Codes lists every status code, in numeric order.
var Codes = []Code{
	CodeOK,
	CodeMalformed, CodeTooLarge, CodeUnsupportedAlg, CodeAlgNotAllowed, CodeKeyNotFound,
	CodeBadSignature, CodeExpired, CodeNotYetValid, CodeIssuedInFuture, CodeTooOld,
	CodeBadIssuer, CodeBadAudience, CodeBadType, CodeMissingClaim, CodeBadClaim,
	CodeUnsupportedCrit, CodeRevoked, CodeUnavailable, CodeLifetimeTooLong,
	CodeNullArgument, CodeInvalidUTF8, CodeBufferTooSmall, CodeInvalidArgument,
	CodeConfigError, CodeNotFound, CodeWrongType, CodeEmbeddedNUL, CodeInternalError,
}

// The names and messages of the known codes, read once from libjwtv so that
// String and Error do not cross into C.
var codeNames, codeMessages = func() (map[Code]string, map[Code]string) {
	names := make(map[Code]string, len(Codes))
	messages := make(map[Code]string, len(Codes))
	for _, c := range Codes {
		names[c] = C.GoString(C.jwtv_error_name(C.uint32_t(c)))
		messages[c] = C.GoString(C.jwtv_error_message(C.uint32_t(c)))
	}
	return names, messages
}()

// String is the code's stable snake_case name from jwtv_error_name
// ("expired", "bad_signature", "config_error"; "internal_error" for a number
// that is not a code).
func (c Code) String() string {
	if name, ok := codeNames[c]; ok {
		return name
	}
	return C.GoString(C.jwtv_error_name(C.uint32_t(c)))
}

// Message is the code's one-line English message from jwtv_error_message.
func (c Code) Message() string {
	if message, ok := codeMessages[c]; ok {
		return message
	}
	return C.GoString(C.jwtv_error_message(C.uint32_t(c)))
}

// IsRejection reports whether c is one of the verifier's rejection codes
// (1–99): the token was refused, as opposed to a misuse of the API.
func (c Code) IsRejection() bool { return c >= 1 && c <= 99 }

// Error is a status other than CodeOK: a rejected token, or an error of a
// call (a bad configuration, argument, …).
//
// Compare with the sentinel values using errors.Is, which matches on the code
// only:
//
//	if errors.Is(err, jwtv.ErrExpired) { … }
//
// or read the code with errors.As.
type Error struct {
	// Code says what went wrong.
	Code Code
	// Detail is the part or claim concerned ("payload", "exp", the name of a
	// missing claim), the reason a configuration was refused, or empty.
	Detail string
}

// Error is "jwtv: <message>" with ": <detail>" when there is a detail.
func (e *Error) Error() string {
	if e.Detail == "" {
		return "jwtv: " + e.Code.Message()
	}
	return "jwtv: " + e.Code.Message() + ": " + e.Detail
}

// Is reports whether target is an *Error with the same code, whatever the
// detail; it makes errors.Is(err, jwtv.ErrExpired) work.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

// Sentinel errors, one per code, for errors.Is. They carry no detail.
var (
	ErrMalformed       = &Error{Code: CodeMalformed}
	ErrTooLarge        = &Error{Code: CodeTooLarge}
	ErrUnsupportedAlg  = &Error{Code: CodeUnsupportedAlg}
	ErrAlgNotAllowed   = &Error{Code: CodeAlgNotAllowed}
	ErrKeyNotFound     = &Error{Code: CodeKeyNotFound}
	ErrBadSignature    = &Error{Code: CodeBadSignature}
	ErrExpired         = &Error{Code: CodeExpired}
	ErrNotYetValid     = &Error{Code: CodeNotYetValid}
	ErrIssuedInFuture  = &Error{Code: CodeIssuedInFuture}
	ErrTooOld          = &Error{Code: CodeTooOld}
	ErrBadIssuer       = &Error{Code: CodeBadIssuer}
	ErrBadAudience     = &Error{Code: CodeBadAudience}
	ErrBadType         = &Error{Code: CodeBadType}
	ErrMissingClaim    = &Error{Code: CodeMissingClaim}
	ErrBadClaim        = &Error{Code: CodeBadClaim}
	ErrUnsupportedCrit = &Error{Code: CodeUnsupportedCrit}
	ErrRevoked         = &Error{Code: CodeRevoked}
	ErrUnavailable     = &Error{Code: CodeUnavailable}
	ErrLifetimeTooLong = &Error{Code: CodeLifetimeTooLong}

	ErrNullArgument    = &Error{Code: CodeNullArgument}
	ErrInvalidUTF8     = &Error{Code: CodeInvalidUTF8}
	ErrBufferTooSmall  = &Error{Code: CodeBufferTooSmall}
	ErrInvalidArgument = &Error{Code: CodeInvalidArgument}
	ErrConfig          = &Error{Code: CodeConfigError}
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrWrongType       = &Error{Code: CodeWrongType}
	ErrEmbeddedNUL     = &Error{Code: CodeEmbeddedNUL}
	ErrInternal        = &Error{Code: CodeInternalError}
)

// ErrClosed is returned by the methods of a Verifier after Close.
var ErrClosed = errors.New("jwtv: verifier is closed")

// errorOf maps a status to nil (CodeOK) or an *Error.
func errorOf(status C.jwtv_status, detail string) error {
	if status == C.JWTV_OK {
		return nil
	}
	return &Error{Code: Code(status), Detail: detail}
}
