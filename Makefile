# Developer shortcuts; CI runs .ci/run.
PG ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: check test test-pg fuzz build demo bench bench-full soak converge-sweep

check:
	gofmt -l . && go vet ./... && go test -race ./...

test:
	go test -race ./...

test-pg:
	OUTPOST_TEST_POSTGRES='$(PG)' go test -race -count=1 ./...

fuzz:
	go test ./filter -run '^$$' -fuzz FuzzParseOData -fuzztime 30s
	go test ./filter -run '^$$' -fuzz FuzzParseJSON -fuzztime 30s
	go test ./httpapi -run '^$$' -fuzz FuzzSyncAPI -fuzztime 30s
	go test ./httpapi -run '^$$' -fuzz FuzzDataAPI -fuzztime 30s

# Benchmarks (docs/benchmarks.md): a smoke run, and the full 1,000,000-row data set.
bench:
	go run ./cmd/outpost bench --scale 0.01

bench-full:
	go run ./cmd/outpost bench --scale 1 --json bench.json

# The long load and fault tests.
soak:
	go test ./loadtest -timeout 60m -v -soak.devices 200 -soak.duration 10m -kill.rounds 100 -device.kills 50

# The long convergence sweep (docs/protocol.md): SEEDS seeds, each run REPEAT times, on SQLite
# and PostgreSQL; a line per finished seed goes to PROGRESS as it ends.
SEEDS ?= 1-10000
REPEAT ?= 2
PROGRESS ?= converge-sweep.log
converge-sweep:
	OUTPOST_TEST_POSTGRES='$(PG)' OUTPOST_SYNC_SEEDS='$(SEEDS)' OUTPOST_SYNC_REPEAT='$(REPEAT)' \
		OUTPOST_SYNC_PROGRESS='$(abspath $(PROGRESS))' \
		go test -count=1 -timeout 0 -parallel 8 -run '^TestConvergence$$' ./client

build:
	CGO_ENABLED=0 go build -o bin/outpost ./cmd/outpost

demo:
	go run ./cmd/outpost demo
