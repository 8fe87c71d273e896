module github.com/atomix-failover/atomix-failover/hack/e2e

go 1.26.0
