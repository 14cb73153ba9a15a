package outpost

import (
	"errors"
	"fmt"
)

// Code is a stable, documented error code of the Outpost API. Only httpapi
// maps a Code to an HTTP status.
type Code string

// The error codes. They are a contract: clients branch on them.
const (
	CodeInvalid      Code = "invalid"      // the request is malformed or a value is not accepted
	CodeNotFound     Code = "not_found"    // the named table, column or row does not exist
	CodeConflict     Code = "conflict"     // the request conflicts with the current state
	CodeUnauthorized Code = "unauthorized" // no valid credentials
	CodeForbidden    Code = "forbidden"    // valid credentials without the needed privilege
	CodeTooLarge     Code = "too_large"    // the body or result is over a limit
	CodeGone         Code = "gone"         // a token or cursor is too old to continue from
	// CodeTokenExpired: the access token or session has expired; a device
	// refreshes its credential and sends the request again.
	CodeTokenExpired Code = "token_expired"
	// CodeDeviceRevoked: the device was revoked (lost or stolen, or its user
	// disabled); it must delete its local data for the user.
	CodeDeviceRevoked Code = "device_revoked"
	// CodeTooManyAttempts: sign-in is refused for a while after repeated
	// failures.
	CodeTooManyAttempts Code = "too_many_attempts"
	CodeTooMany         Code = "too_many" // over a limit of concurrent requests or streams; try again later
	// CodeUnsupported: the body is in a format the route does not take.
	CodeUnsupported Code = "unsupported_format"
	// CodeFailedDependency: a request of a $batch was not run or not
	// written because another it depends on (or shares a change set with)
	// failed.
	CodeFailedDependency Code = "failed_dependency"
	CodeInternal         Code = "internal" // anything else; details are only logged
)

// Error is a failure the caller can act on. Message is safe to show an end
// user; Target names the field, column or parameter at fault; Err is the
// cause, for logs and errors.Is, and is never shown.
type Error struct {
	Code    Code
	Message string
	Target  string
	Err     error
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Target != "" {
		s += " (" + e.Target + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// WithTarget sets Target and returns e.
func (e *Error) WithTarget(target string) *Error {
	e.Target = target
	return e
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns a CodeInvalid error.
func Invalidf(format string, args ...any) *Error { return Errorf(CodeInvalid, format, args...) }

// NotFoundf returns a CodeNotFound error.
func NotFoundf(format string, args ...any) *Error { return Errorf(CodeNotFound, format, args...) }

// Conflictf returns a CodeConflict error.
func Conflictf(format string, args ...any) *Error { return Errorf(CodeConflict, format, args...) }

// Forbiddenf returns a CodeForbidden error.
func Forbiddenf(format string, args ...any) *Error { return Errorf(CodeForbidden, format, args...) }

// Unauthorizedf returns a CodeUnauthorized error.
func Unauthorizedf(format string, args ...any) *Error {
	return Errorf(CodeUnauthorized, format, args...)
}

// ErrorCode returns the Code of the first *Error in err's chain, or
// CodeInternal when there is none. A nil err has no code ("").
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the user-safe message of err: the Message of the first
// *Error in its chain, or "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorTarget returns the Target of the first *Error in err's chain.
func ErrorTarget(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Target
	}
	return ""
}

// BodyRef turns "not found" for an object named inside a request body into
// CodeInvalid with target: 404 is for the resource of the URL only.
func BodyRef(err error, target string) error {
	if ErrorCode(err) != CodeNotFound {
		return err
	}
	return Invalidf("%s", ErrorMessage(err)).WithTarget(target)
}
