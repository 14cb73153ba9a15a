package main

import (
	"bufio"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
)

const signinUsage = `  token list [--user ID|LOGIN]                    integration tokens: id, user, name, created, expiry, last use
  token revoke ID                                 revoke one token at once
  user set-password --user ID|LOGIN               read a new password from standard input (one line)
  device list [--user ID|LOGIN]                   signed-in devices and their stores
  device revoke ID                                revoke a device (lost or stolen): it wipes its data
`

// signinCommands are the admin commands of tokens, passwords and devices.
// They share the --user flag of the other commands.
func (a *adminCmd) signinCommands(fs *flag.FlagSet) map[string]func(args []string) error {
	sys := platform.System()
	userFlag := func() string {
		if f := fs.Lookup("user"); f != nil {
			return f.Value.String()
		}
		return ""
	}
	optionalUser := func() (string, error) {
		if u := userFlag(); u != "" {
			return a.userID(u)
		}
		return "", nil
	}
	oneID := func(args []string, what string) (string, error) {
		if len(args) != 1 {
			return "", outpost.Invalidf("name one %s id: outpost admin %s revoke ID", what, what)
		}
		return args[0], nil
	}
	return map[string]func([]string) error{
		"token list": func([]string) error {
			uid, err := optionalUser()
			if err != nil {
				return err
			}
			list, err := a.p.ListTokens(a.ctx, sys, uid)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSER\tNAME\tCREATED\tEXPIRES\tLAST USED")
			for _, t := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.UserID, t.Name, t.CreatedOn.Format(time.RFC3339), orDash(t.ExpiresOn), orDash(t.LastUsed))
			}
			return tw.Flush()
		},
		"token revoke": func(args []string) error {
			id, err := oneID(args, "token")
			if err != nil {
				return err
			}
			if err := a.p.RevokeToken(a.ctx, sys, id); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "revoked token %s\n", id)
			return nil
		},
		"user set-password": func([]string) error {
			uid, err := a.userID(userFlag())
			if err != nil {
				return err
			}
			line, err := bufio.NewReader(stdinReader).ReadString('\n')
			if err != nil && line == "" {
				return outpost.Invalidf("write the new password on standard input, one line")
			}
			if err := a.p.SetPassword(a.ctx, sys, uid, strings.TrimRight(line, "\r\n"), ""); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "password set for %s; their sessions and device sign-ins ended\n", uid)
			return nil
		},
		"device list": func([]string) error {
			uid, err := optionalUser()
			if err != nil {
				return err
			}
			list, err := a.p.ListDevices(a.ctx, sys, platform.DeviceFilter{UserID: uid, IncludeRevoked: true})
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
		},
		"device revoke": func(args []string) error {
			id, err := oneID(args, "device")
			if err != nil {
				return err
			}
			if err := a.p.RevokeDevice(a.ctx, sys, id); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "revoked device %s: its next request is refused and it deletes its local data\n", id)
			return nil
		},
	}
}

func orDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
