// Package embeddedtest runs the Kubernetes target's embedded data path
// against a real Raft store, the local target's, with the store's DataStore
// on a fake API server. It has tests only: it lets the test import both
// targets, which never import each other.
package embeddedtest
