# Developer shortcuts; CI runs .ci/run.
PG ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: check test test-pg fuzz build demo

check:
	gofmt -l . && go vet ./... && go test -race ./...

test:
	go test -race ./...

test-pg:
	OUTPOST_TEST_POSTGRES='$(PG)' go test -race -count=1 ./...

fuzz:
	go test ./filter -run '^$$' -fuzz FuzzParseOData -fuzztime 30s
	go test ./filter -run '^$$' -fuzz FuzzParseJSON -fuzztime 30s

build:
	CGO_ENABLED=0 go build -o bin/outpost ./cmd/outpost

demo:
	go run ./cmd/outpost demo
