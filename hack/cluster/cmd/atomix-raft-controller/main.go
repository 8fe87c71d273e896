// SPDX-FileCopyrightText: 2022-present Intel Corporation
//
// SPDX-License-Identifier: Apache-2.0

// Command atomix-raft-controller is the Atomix raft controller of
// github.com/atomix/atomix/stores/raft v0.7.0 (cmd/atomix-raft-controller),
// adapted for the cluster harness: the controller module it needs (v1.0.0)
// is not served by the module proxy, so it builds against controller v0.2.1,
// which lacks conversion.NewWebhook; convert.go has our own handler.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	atomixapis "github.com/atomix/atomix/controller/pkg/apis"
	"github.com/atomix/atomix/controller/pkg/controller/util/k8s"
	"github.com/atomix/atomix/runtime/pkg/logging"
	raftapis "github.com/atomix/atomix/stores/raft/pkg/apis"
	apisv1beta2 "github.com/atomix/atomix/stores/raft/pkg/apis/raft/v1beta2"
	apisv1beta3 "github.com/atomix/atomix/stores/raft/pkg/apis/raft/v1beta3"
	controllerv1beta3 "github.com/atomix/atomix/stores/raft/pkg/controller/raft/v1beta3"
	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/manager/signals"
)

var log = logging.GetLogger()

const raftClusterConvertPath = "/convert-cluster"

func main() {
	log.Info(fmt.Sprintf("Go Version: %s", runtime.Version()))
	log.Info(fmt.Sprintf("Go OS/Arch: %s/%s", runtime.GOOS, runtime.GOARCH))
	if err := command().Execute(); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}

func command() *cobra.Command {
	cmd := &cobra.Command{
		Use:  "atomix-raft-controller",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			namespace, _ := cmd.Flags().GetString("namespace")
			certsDir, _ := cmd.Flags().GetString("certs")
			return run(namespace, certsDir)
		},
	}
	cmd.Flags().StringP("namespace", "n", "", "the namespace in which to run the controller")
	cmd.Flags().String("certs", "/etc/atomix/certs", "the path to the certificates directory")
	return cmd
}

func run(namespace, certsDir string) error {
	cfg, err := config.GetConfig()
	if err != nil {
		return err
	}
	_ = k8s.BecomeLeader(context.TODO())

	r := k8s.NewFileReady()
	if err := r.Set(); err != nil {
		return err
	}
	defer func() { _ = r.Unset() }()

	mgr, err := manager.New(cfg, manager.Options{Namespace: namespace})
	if err != nil {
		return err
	}
	if err := atomixapis.AddToScheme(mgr.GetScheme()); err != nil {
		return err
	}
	if err := raftapis.AddToScheme(mgr.GetScheme()); err != nil {
		return err
	}
	if err := controllerv1beta3.AddControllers(mgr); err != nil {
		return err
	}

	// The harness installs the CRDs with conversion strategy None, so no
	// conversion request ever arrives; the webhook is served only when a
	// serving certificate is there, as the upstream chart provides.
	if _, err := os.Stat(filepath.Join(certsDir, "tls.crt")); err == nil {
		mgr.GetWebhookServer().Port = 443
		mgr.GetWebhookServer().CertDir = certsDir
		mgr.GetWebhookServer().Register(raftClusterConvertPath,
			newConversionWebhook("RaftCluster", apisv1beta2.SchemeGroupVersion, apisv1beta3.SchemeGroupVersion))
	} else {
		log.Info(fmt.Sprintf("no certificate in %s: conversion webhook not served", certsDir))
	}

	log.Info("Starting the Manager")
	if err := mgr.Start(signals.SetupSignalHandler()); err != nil {
		log.Error(err, "controller exited non-zero")
		return err
	}
	return nil
}
