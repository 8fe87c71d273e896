package datapath

import (
	"reflect"
	"strings"
	"testing"
	"time"

	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
)

func TestDecodeConfig(t *testing.T) {
	timeout := 30 * time.Second
	want := rsmapiv1.ProtocolConfig{SessionTimeout: &timeout, Partitions: []rsmapiv1.PartitionConfig{
		{PartitionID: 1, Leader: "c-0.c-hs.ns.svc.cluster.local:5678", Followers: []string{"c-1.c-hs.ns.svc.cluster.local:5678"}},
		{PartitionID: 2, Followers: []string{"a:1", "b:1"}},
	}}
	raw, err := marshalConfig(want)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		raw     string
		want    rsmapiv1.ProtocolConfig
		wantErr string
	}{
		{name: "round trip", raw: raw, want: want},
		{name: "as the raft controller writes it", raw: `{"partitions":[{"partitionId":1,"leader":"a:1"}]}`,
			want: rsmapiv1.ProtocolConfig{Partitions: []rsmapiv1.PartitionConfig{{PartitionID: 1, Leader: "a:1"}}}},
		{name: "unknown fields ignored", raw: `{"partitions":[{"partitionId":3,"leader":"a:1","zone":"x"}],"extra":1}`,
			want: rsmapiv1.ProtocolConfig{Partitions: []rsmapiv1.PartitionConfig{{PartitionID: 3, Leader: "a:1"}}}},
		{name: "not JSON", raw: `{`, wantErr: "decoding protocol config"},
		{name: "wrong type", raw: `{"partitions":"all"}`, wantErr: "decoding protocol config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeConfig([]byte(tc.raw))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("decoded %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil || p <= 0 {
		t.Fatalf("FreePort = %d, %v", p, err)
	}
}
