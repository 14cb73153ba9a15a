package wire

import (
	"crypto/sha256"
	"encoding/hex"
)

// The checksum of a table is, per bucket, the sum modulo 2^64 of RowHash
// over the rows whose id falls in the bucket. A row stays in its bucket
// when its version moves (the bucket depends on the id only), so one
// changed row changes one bucket. Sums are additive: the device can keep
// them incrementally.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnv(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix is the splitmix64 finaliser: it spreads every input bit over the
// output so that sums of hashes do not cancel by accident.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// RowHash is the 64-bit hash of a row id at a version.
func RowHash(id string, version int64) uint64 {
	return mix(fnv(id) ^ mix(uint64(version)+0x9e3779b97f4a7c15))
}

// Bucket returns the bucket of id among n buckets.
func Bucket(id string, n int) int {
	if n <= 1 {
		return 0
	}
	return int(mix(fnv(id)) % uint64(n))
}

// RowsPerBucket is about how many rows share a bucket. The sums are what a
// reconciliation always costs (8 bytes or more each, per table, whatever
// changed); the rows of a differing bucket are what each difference costs
// (an id and a version each). Scope changes, where many rows differ, are
// answered without checksums (docs/protocol.md), so reconciliation is
// mostly about a few rows, and few, fuller buckets are cheaper.
const RowsPerBucket = 64

// BucketCount returns the number of buckets the server uses for a table
// of rows rows: about RowsPerBucket rows per bucket, a power of two from
// 16 to 8192.
func BucketCount(rows int64) int {
	n := 16
	for n < 8192 && int64(n)*RowsPerBucket < rows {
		n *= 2
	}
	return n
}

// RemoveKey is the key a delta names a removed row by when the server
// cannot tell whether the device holds it (the row was deleted, or changed
// out of the device's scope, since the token): the first 8 bytes of the
// SHA-256 of its id, in hex. The device removes its rows whose key is
// listed; a key tells nothing about a row the device does not hold (ids
// carry 62 random bits beside the millisecond they were made in, so
// finding one id behind a key means trying the ids of every millisecond
// the row may have been made in, 2^62 each).
func RemoveKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:8])
}
