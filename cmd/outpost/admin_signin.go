package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
)

// The admin commands of tokens, passwords and signed-in devices.

func (a *admin) tokenList(ctx context.Context, args []string) error {
	fs := a.flags("token list", "[--user ID|LOGIN]", "token list --user nora@contoso.example")
	uid, err := a.userFilter(ctx, fs, args, "only this user's tokens (id or login)")
	if err != nil {
		return err
	}
	list, err := a.p.ListTokens(ctx, platform.System(), uid)
	if err != nil {
		return err
	}
	tw := a.table("ID\tUSER\tNAME\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.UserID, t.Name, t.CreatedOn.Format(time.RFC3339), orDash(t.ExpiresOn), orDash(t.LastUsed))
	}
	return tw.Flush()
}

func (a *admin) tokenRevoke(ctx context.Context, args []string) error {
	pos, err := a.open(ctx, a.flags("token revoke", "ID", "token revoke 3f2504e04f8941d3"), args, "token id")
	if err != nil {
		return err
	}
	return a.report(a.p.RevokeToken(ctx, platform.System(), pos[0]), "revoked token %s", pos[0])
}

func (a *admin) userSetPassword(ctx context.Context, args []string) error {
	fs := a.flags("user set-password", "--user ID|LOGIN   (the password on standard input, one line)", "user set-password --user nora@contoso.example < password.txt")
	uid, err := a.userArg(ctx, fs, args)
	if err != nil {
		return err
	}
	line, err := bufio.NewReader(stdinReader).ReadString('\n')
	if err != nil && line == "" {
		return outpost.Invalidf("write the new password on standard input, one line")
	}
	return a.report(a.p.SetPassword(ctx, platform.System(), uid, strings.TrimRight(line, "\r\n"), ""),
		"password set for %s; their sessions and device sign-ins ended", uid)
}

func (a *admin) deviceList(ctx context.Context, args []string) error {
	fs := a.flags("device list", "[--user ID|LOGIN]", "device list --user nora@contoso.example")
	uid, err := a.userFilter(ctx, fs, args, "only this user's devices (id or login)")
	if err != nil {
		return err
	}
	list, err := a.p.ListDevices(ctx, platform.System(), platform.DeviceFilter{UserID: uid, IncludeRevoked: true})
	if err != nil {
		return err
	}
	tw := a.table("DEVICE\tUSER\tNAME\tPLATFORM\tLAST CONTACT\tPENDING\tSTORES\tREVOKED")
	for _, d := range list {
		revoked := "-"
		if d.RevokedOn != nil {
			revoked = d.RevokedOn.Format(time.RFC3339) + " (" + d.RevokedReason + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", d.DeviceID, d.UserID, d.Name, d.Platform, d.LastContact.Format(time.RFC3339), d.PendingUpload, len(d.Stores), revoked)
	}
	return tw.Flush()
}

func (a *admin) deviceRevoke(ctx context.Context, args []string) error {
	pos, err := a.open(ctx, a.flags("device revoke", "ID", "device revoke 3f2504e0-4f89-41d3-9a0c-0305e82c3301"), args, "device id")
	if err != nil {
		return err
	}
	return a.report(a.p.RevokeDevice(ctx, platform.System(), pos[0]), "revoked device %s: its next request is refused and it deletes its local data", pos[0])
}

// userFilter is the start of a list that --user may narrow to one user:
// it defines --user with usage, parses args with fs, opens the
// environment and resolves the user, "" when none was named.
func (a *admin) userFilter(ctx context.Context, fs *flag.FlagSet, args []string, usage string) (string, error) {
	user := fs.String("user", "", usage)
	if _, err := a.open(ctx, fs, args); err != nil {
		return "", err
	}
	return a.optionalUserID(ctx, *user)
}

func orDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
