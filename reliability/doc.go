// Package reliability holds only tests: the reliability suite of issue #11.
// It runs the server under network faults (a TCP proxy that cuts, stalls
// and delays connections), connection churn, hostile clients beside honest
// ones, and checks what the library promises: recovered sessions get every
// missed event exactly once and in order, resources come back to their
// baseline, and honest clients keep being served. The Redis restart case
// lives in adapter/redis (reliability_test.go), the module that can import
// the adapter. docs/reliability.md describes the suite and its results.
//
// Run it with:
//
//	go test -race -count=1 ./reliability/
package reliability
