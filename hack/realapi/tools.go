//go:build tools

// Package realapi pins the real kube-apiserver and etcd the integration test builds.
package realapi

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
)
