// Package loadtest holds Outpost's load and fault tests. They run real
// processes on loopback: the outpost binary serving an embedded SQLite
// store, killed with SIGKILL and restarted; device processes killed in the
// middle of a first sync or an upload; a TCP proxy that cuts, delays and
// truncates connections; and a soak of many devices. Every test ends by
// checking that each device holds exactly its download plan and that no
// offline change was lost or applied twice.
//
// "go test ./loadtest" runs short versions. The long versions take flags:
//
//	go test ./loadtest -run Soak -timeout 30m -soak.devices 200 -soak.duration 10m
//	go test ./loadtest -run Kill -timeout 30m -kill.rounds 100
package loadtest
