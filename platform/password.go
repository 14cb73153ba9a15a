package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// The password policy (docs/security.md).
const (
	// MinPasswordLength is the fewest characters a password may have.
	MinPasswordLength = 10
	// MaxPasswordBytes is bcrypt's limit: it ignores bytes past 72, so
	// longer passwords are refused rather than silently cut.
	MaxPasswordBytes = 72
)

// commonPasswords are refused whatever their length: the most common
// passwords of ten characters or more in published breach lists.
var commonPasswords = map[string]bool{
	"1234567890": true, "0123456789": true, "qwertyuiop": true, "password12": true, "password123": true,
	"password1234": true, "1q2w3e4r5t": true, "abcdefghij": true, "iloveyou12": true, "qwerty1234": true,
	"1qaz2wsx3edc": true, "0987654321": true, "1111111111": true, "aaaaaaaaaa": true, "letmein123": true,
	"welcome123": true, "administrator": true, "changeme123": true, "passw0rd12": true, "qwertyuiop123": true,
}

// The lockout policy: after accountFailures consecutive failures for one
// login name (or addressFailures from one address), sign-in is refused for
// lockoutBase, doubling with every further failure up to lockoutMax.
// Counters start again lockoutMax after the last failure; a success clears
// the account's counter.
const (
	accountFailures = 5
	addressFailures = 20
	lockoutBase     = 30 * time.Second
	lockoutMax      = 15 * time.Minute
)

// dummyHash is compared against when the login names no user, so that a
// wrong name costs as long as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("outpost-no-such-user"), bcrypt.MinCost)

// CheckPasswordPolicy says what is wrong with password for the user with
// login name and email, or nil.
func CheckPasswordPolicy(password, login, email string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return outpost.Invalidf("a password has at least %d characters", MinPasswordLength).WithTarget("password")
	case len(password) > MaxPasswordBytes:
		return outpost.Invalidf("a password has at most %d bytes", MaxPasswordBytes).WithTarget("password")
	case commonPasswords[strings.ToLower(password)]:
		return outpost.Invalidf("this password is among the most common ones in breach lists: choose another").WithTarget("password")
	case login != "" && strings.EqualFold(password, login), email != "" && strings.EqualFold(password, email):
		return outpost.Invalidf("a password may not be the user's login name or email").WithTarget("password")
	}
	return nil
}

// SetPassword sets userID's password. Administrators set anyone's; a user
// sets their own and must give the current one (when they have one).
// Setting a password ends the user's browser sessions and device
// credentials: they sign in again with the new one (devices keep their
// local data and upload queue).
func (p *Platform) SetPassword(ctx context.Context, by *security.Principal, userID, password, current string) error {
	if !by.Admin && by.UserID != userID {
		return outpost.Forbiddenf("only administrators may set other users' passwords")
	}
	var login, email sql.NullString
	d := p.db.Dialect
	query, args := sqlgen.NewBuilder(d).
		SQL(`SELECT domainname, internalemailaddress FROM systemuser WHERE systemuserid = `).Arg(userID).Build()
	err := p.db.Read.QueryRowContext(ctx, query, args...).Scan(&login, &email)
	if err == sql.ErrNoRows {
		return outpost.NotFoundf("no user has the id %s", userID).WithTarget("user")
	}
	if err != nil {
		return fmt.Errorf("set password of %s: %w", userID, err)
	}
	if !by.Admin {
		old, err := p.passwordHash(ctx, userID)
		if err != nil {
			return err
		}
		if old != nil && bcrypt.CompareHashAndPassword(old, []byte(current)) != nil {
			return outpost.Forbiddenf("the current password is not right").WithTarget("current")
		}
	}
	if err := CheckPasswordPolicy(password, login.String, email.String); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), p.passwordCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	err = p.db.Tx(ctx, func(tx *sql.Tx) error {
		now := d.TimeArg(p.Now())
		query, args := sqlgen.NewBuilder(d).
			SQL(`UPDATE outpost_password SET hash = `).Arg(string(hash)).SQL(`, changedon = `).Arg(now).
			SQL(` WHERE userid = `).Arg(userID).Build()
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outpost_password (userid, hash, changedon) VALUES (`+d.Placeholders(1, 3)+`)`, userID, string(hash), now); err != nil {
				return err
			}
		}
		return p.endSignIns(ctx, tx, userID)
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", userID, err)
	}
	p.credentialsRevoked(ctx)
	p.logger.InfoContext(ctx, "password set", "user", userID, "by", by.UserID)
	return nil
}

// endSignIns deletes userID's browser sessions and device credentials
// (access and refresh tokens); the devices stay registered and not revoked.
func (p *Platform) endSignIns(ctx context.Context, tx store.Querier, userID string) error {
	d := p.db.Dialect
	query, args := sqlgen.NewBuilder(d).SQL(`DELETE FROM outpost_token WHERE userid = `).Arg(userID).
		SQL(` AND kind IN (`).Args(KindSession, KindDevice).SQL(`)`).Build()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return err
	}
	query, args = sqlgen.NewBuilder(d).
		SQL(`DELETE FROM outpost_refreshtoken WHERE deviceid IN (SELECT deviceid FROM outpost_signindevice WHERE userid = `).Arg(userID).
		SQL(`)`).Build()
	_, err := tx.ExecContext(ctx, query, args...)
	return err
}

func (p *Platform) passwordHash(ctx context.Context, userID string) ([]byte, error) {
	var h string
	query, args := sqlgen.NewBuilder(p.db.Dialect).SQL(`SELECT hash FROM outpost_password WHERE userid = `).Arg(userID).Build()
	err := p.db.Read.QueryRowContext(ctx, query, args...).Scan(&h)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read password of %s: %w", userID, err)
	}
	return []byte(h), nil
}

// CheckPassword signs a user in by login name (domainname) and password
// from address (the client's IP address) and returns the user's id. Wrong
// names and wrong passwords get the same answer; repeated failures lock
// the login name and the address out for a while (too_many_attempts),
// during which even the right password is refused.
func (p *Platform) CheckPassword(ctx context.Context, login, password, address string) (string, error) {
	if login == "" || password == "" {
		return "", outpost.Invalidf("sign-in needs a user name and a password").WithTarget("username")
	}
	subjects := []string{"user:" + strings.ToLower(login), "addr:" + address}
	for _, s := range subjects {
		if until, err := p.lockedUntil(ctx, s); err != nil {
			return "", err
		} else if !until.IsZero() {
			return "", tooManyAttempts(until.Sub(p.Now()))
		}
	}
	userID, err := p.userByLogin(ctx, login)
	if err != nil {
		return "", err
	}
	var hash []byte
	if userID != "" {
		if hash, err = p.passwordHash(ctx, userID); err != nil {
			return "", err
		}
	}
	if hash == nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
	} else if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil {
		hash = nil
	}
	if hash == nil {
		if err := p.recordFailure(ctx, subjects[0], accountFailures); err != nil {
			return "", err
		}
		if err := p.recordFailure(ctx, subjects[1], addressFailures); err != nil {
			return "", err
		}
		p.logger.InfoContext(ctx, "sign-in failed", "login", login, "address", address)
		return "", outpost.Unauthorizedf("the user name or password is not right")
	}
	query, args := sqlgen.NewBuilder(p.db.Dialect).SQL(`DELETE FROM outpost_loginfailure WHERE subject = `).Arg(subjects[0]).Build()
	if _, err := p.db.Write.ExecContext(ctx, query, args...); err != nil {
		return "", fmt.Errorf("clear failed sign-ins: %w", err)
	}
	if _, err := p.Principal(ctx, userID); err != nil {
		if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
			return "", outpost.Unauthorizedf("this account is disabled: ask an administrator")
		}
		return "", err
	}
	return userID, nil
}

func tooManyAttempts(wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &outpost.Error{Code: outpost.CodeTooManyAttempts, Message: fmt.Sprintf("too many failed sign-ins: try again in %d seconds", secs),
		Err: RetryAfter(secs)}
}

// RetryAfter is the cause of a too_many_attempts error: seconds to wait.
type RetryAfter int

func (r RetryAfter) Error() string { return fmt.Sprintf("retry after %d seconds", int(r)) }

// RetryAfterOf returns the seconds to wait that err carries, or 0.
func RetryAfterOf(err error) int {
	var r RetryAfter
	if errors.As(err, &r) {
		return int(r)
	}
	return 0
}

// lockedUntil returns when subject's lockout ends, zero when it is not
// locked out.
func (p *Platform) lockedUntil(ctx context.Context, subject string) (time.Time, error) {
	var until any
	query, args := sqlgen.NewBuilder(p.db.Dialect).SQL(`SELECT lockeduntil FROM outpost_loginfailure WHERE subject = `).Arg(subject).Build()
	err := p.db.Read.QueryRowContext(ctx, query, args...).Scan(&until)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read failed sign-ins: %w", err)
	}
	if t := timeOf(until); t.After(p.Now()) {
		return t, nil
	}
	return time.Time{}, nil
}

// recordFailure counts a failed sign-in of subject and locks it out once
// it reaches limit.
func (p *Platform) recordFailure(ctx context.Context, subject string, limit int) error {
	d := p.db.Dialect
	now := p.Now()
	return p.db.Tx(ctx, func(tx *sql.Tx) error {
		var failures int
		var last any
		query, args := sqlgen.NewBuilder(d).
			SQL(`SELECT failures, lastfailure FROM outpost_loginfailure WHERE subject = `).Arg(subject).Build()
		err := tx.QueryRowContext(ctx, query, args...).Scan(&failures, &last)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return err
		case now.Sub(timeOf(last)) > lockoutMax:
			failures = 0
		}
		failures++
		var until any
		if failures >= limit {
			wait := lockoutBase << min(failures-limit, 5)
			until = d.TimeArg(now.Add(min(wait, lockoutMax)))
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO outpost_loginfailure (subject, failures, lastfailure, lockeduntil) VALUES (`+d.Placeholders(1, 4)+
			`) ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures, lastfailure = excluded.lastfailure, lockeduntil = excluded.lockeduntil`,
			subject, failures, d.TimeArg(now), until)
		return err
	})
}

// userByLogin returns the id of the user whose domainname is login,
// ignoring case; empty when there is none.
func (p *Platform) userByLogin(ctx context.Context, login string) (string, error) {
	var id string
	query, args := sqlgen.NewBuilder(p.db.Dialect).
		SQL(`SELECT systemuserid FROM systemuser WHERE lower(domainname) = lower(`).Arg(login).
		SQL(`) ORDER BY systemuserid LIMIT 1`).Build()
	err := p.db.Read.QueryRowContext(ctx, query, args...).Scan(&id)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find user %s: %w", login, err)
	}
	return id, nil
}
