// Package e2e is the end-to-end test of the Kubernetes half of
// atomix-failover on a real one-node cluster (hack/cluster): the project's
// image, run.sh, the campaign in the pod, kubectl logs -f, kubectl cp and
// analyze-results.go, checked against an independent watcher of the store's
// leaders and pods. Run it as root from the repository root:
//
//	(cd hack/e2e && go test -tags e2e -count=1 -v -timeout 40m .)
//
// It is its own module (standard library only) so that the main module's
// build and tests do not depend on it; the files without the e2e tag hold
// its helpers and their unit tests.
package e2e
