//go:build tools

// Package kubernetes pins the Kubernetes components the cluster harness
// builds (see ../../cluster build). It is never compiled: the harness runs
// `go build` on the imported commands from this module so that the versions
// come from this go.mod and go.sum.
package kubernetes

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
