package experiment

import (
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

func TestHealthy(t *testing.T) {
	info := cluster.Info{Partitions: 2, Replicas: 3}
	m := func(id uint64, pid int, uid string) cluster.Member { return cluster.Member{ID: id, PID: pid, UID: uid} }
	part := func(p int, leader cluster.Member, followers ...cluster.Member) cluster.Leadership {
		return cluster.Leadership{Partition: p, Term: 2, Leader: leader, Followers: followers}
	}
	up := []cluster.Leadership{
		part(1, m(1, 11, "a"), m(2, 12, "b"), m(3, 13, "c")),
		part(2, m(2, 12, "b"), m(1, 11, "a"), m(3, 13, "c")),
	}
	victim := m(3, 13, "c")
	restarted := m(3, 14, "c2")
	tests := []struct {
		name   string
		ls     []cluster.Leadership
		victim *cluster.Member
		want   bool
	}{
		{"all up", up, nil, true},
		{"partition missing", up[:1], nil, false},
		{"election running", []cluster.Leadership{up[0], part(2, cluster.Member{}, m(1, 11, "a"), m(2, 12, "b"), m(3, 13, "c"))}, nil, false},
		{"member down", []cluster.Leadership{up[0], part(2, m(2, 12, "b"), m(1, 11, "a"), m(3, 0, ""))}, nil, false},
		{"member missing", []cluster.Leadership{up[0], part(2, m(2, 12, "b"), m(1, 11, "a"))}, nil, false},
		{"victim not yet replaced", up, &victim, false},
		{"victim restarted", []cluster.Leadership{
			part(1, m(1, 11, "a"), m(2, 12, "b"), restarted),
			part(2, m(2, 12, "b"), m(1, 11, "a"), restarted),
		}, &victim, true},
		{"no PIDs (kubernetes)", []cluster.Leadership{
			part(1, m(1, 0, "p1"), m(2, 0, "p2"), m(3, 0, "p3")),
			part(2, m(2, 0, "p2"), m(1, 0, "p1"), m(3, 0, "p3")),
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := healthy(tt.ls, info, tt.victim)
			if got != tt.want {
				t.Fatalf("healthy = %v (%s), want %v", got, why, tt.want)
			}
			if !got && why == "" {
				t.Fatal("unhealthy without a reason")
			}
		})
	}
}
