package main

import "flag"

// offlineCommands are the admin commands for profiles, apps and solutions.
func (a *adminCmd) offlineCommands(fs *flag.FlagSet) map[string]func(args []string) error {
	return map[string]func([]string) error{}
}
