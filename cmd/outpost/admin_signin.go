package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
)

// The admin commands of tokens, passwords and signed-in devices.

func (a *admin) tokenList(ctx context.Context, args []string) error {
	fs := a.flags("token list", "[--user ID|LOGIN]", "token list --user nora@contoso.example")
	user := fs.String("user", "", "only this user's tokens (id or login)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	p, err := a.platform(ctx)
	if err != nil {
		return err
	}
	uid := ""
	if *user != "" {
		if uid, err = a.userID(ctx, *user); err != nil {
			return err
		}
	}
	list, err := p.ListTokens(ctx, platform.System(), uid)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tNAME\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.UserID, t.Name, t.CreatedOn.Format(time.RFC3339), orDash(t.ExpiresOn), orDash(t.LastUsed))
	}
	return tw.Flush()
}

func (a *admin) tokenRevoke(ctx context.Context, args []string) error {
	fs := a.flags("token revoke", "ID", "token revoke 3f2504e04f8941d3")
	pos, err := parse(fs, args, "token id")
	if err != nil {
		return err
	}
	p, err := a.platform(ctx)
	if err != nil {
		return err
	}
	if err := p.RevokeToken(ctx, platform.System(), pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "revoked token %s\n", pos[0])
	return nil
}

func (a *admin) userSetPassword(ctx context.Context, args []string) error {
	fs := a.flags("user set-password", "--user ID|LOGIN   (the password on standard input, one line)", "user set-password --user nora@contoso.example < password.txt")
	user := fs.String("user", "", "user id or login")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	uid, err := a.userID(ctx, *user)
	if err != nil {
		return err
	}
	line, err := bufio.NewReader(stdinReader).ReadString('\n')
	if err != nil && line == "" {
		return outpost.Invalidf("write the new password on standard input, one line")
	}
	if err := a.p.SetPassword(ctx, platform.System(), uid, strings.TrimRight(line, "\r\n"), ""); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "password set for %s; their sessions and device sign-ins ended\n", uid)
	return nil
}

func (a *admin) deviceList(ctx context.Context, args []string) error {
	fs := a.flags("device list", "[--user ID|LOGIN]", "device list --user nora@contoso.example")
	user := fs.String("user", "", "only this user's devices (id or login)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	p, err := a.platform(ctx)
	if err != nil {
		return err
	}
	uid := ""
	if *user != "" {
		if uid, err = a.userID(ctx, *user); err != nil {
			return err
		}
	}
	list, err := p.ListDevices(ctx, platform.System(), platform.DeviceFilter{UserID: uid, IncludeRevoked: true})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tUSER\tNAME\tPLATFORM\tLAST CONTACT\tPENDING\tSTORES\tREVOKED")
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
	fs := a.flags("device revoke", "ID", "device revoke 3f2504e0-4f89-41d3-9a0c-0305e82c3301")
	pos, err := parse(fs, args, "device id")
	if err != nil {
		return err
	}
	p, err := a.platform(ctx)
	if err != nil {
		return err
	}
	if err := p.RevokeDevice(ctx, platform.System(), pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "revoked device %s: its next request is refused and it deletes its local data\n", pos[0])
	return nil
}

func orDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
