package local

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"

	pb "github.com/lni/dragonboat/v3/raftpb"
)

func batchFrame(t *testing.T, source string) []byte {
	t.Helper()
	b := pb.MessageBatch{SourceAddress: source, DeploymentId: 7, BinVer: 210, Requests: []pb.Message{
		{Type: pb.Heartbeat, ClusterId: 1, From: 1, To: 2, Term: 3},
		{Type: pb.Replicate, ClusterId: 2, From: 1, To: 2, Term: 4, Entries: []pb.Entry{{Index: 9, Term: 4, Cmd: []byte("put")}}},
	}}
	out, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return encodeFrame(frameRaft, out)
}

func chunkFrame(t *testing.T, addrs map[uint64]string) []byte {
	t.Helper()
	c := pb.Chunk{ClusterId: 1, NodeId: 2, From: 1, Data: []byte("snapshot bytes"), Index: 40, Term: 4,
		Membership: pb.Membership{ConfigChangeId: 3, Addresses: addrs}}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return encodeFrame(frameSnapshot, out)
}

// readFrame decodes one frame as dragonboat's receiver does, checking both checksums.
func readFrame(t *testing.T, r io.Reader) (uint16, []byte) {
	t.Helper()
	head := make([]byte, 2+frameHeaderSize)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatalf("reading a frame header: %v", err)
	}
	if [2]byte(head[:2]) != frameMagic {
		t.Fatalf("magic %x", head[:2])
	}
	method, size, err := decodeFrameHeader(head[2:])
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatal(err)
	}
	if crc32.ChecksumIEEE(payload) != binary.BigEndian.Uint32(head[2+14:]) {
		t.Fatal("payload checksum mismatch")
	}
	return method, payload
}

// TestCopyFramesRewrites checks that the Raft link translates a batch's
// source address and a snapshot chunk's membership into the receiver's
// addresses, and forwards what it cannot or need not rewrite unchanged.
func TestCopyFramesRewrites(t *testing.T) {
	m := addrMap{"127.0.0.1:1000": "127.0.0.1:2001", "127.0.0.1:1002": "127.0.0.1:2002", "127.0.0.1:1003": "127.0.0.1:3000"}
	corrupt := batchFrame(t, "127.0.0.1:1000")
	corrupt[len(corrupt)-1] ^= 0xff
	tests := []struct {
		name       string
		in         []byte
		wantSource string
		wantAddrs  map[uint64]string
		unchanged  bool
	}{
		{name: "batch source address", in: batchFrame(t, "127.0.0.1:1000"), wantSource: "127.0.0.1:2001"},
		{name: "batch from an unknown address", in: batchFrame(t, "127.0.0.1:9"), unchanged: true},
		{
			name:      "snapshot membership",
			in:        chunkFrame(t, map[uint64]string{1: "127.0.0.1:1000", 2: "127.0.0.1:1002", 3: "127.0.0.1:1003"}),
			wantAddrs: map[uint64]string{1: "127.0.0.1:2001", 2: "127.0.0.1:2002", 3: "127.0.0.1:3000"},
		},
		{name: "payload failing its checksum", in: corrupt, unchanged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			in := append(append(append([]byte{}, tt.in...), framePoison[:]...), tt.in...)
			if err := m.copyFrames(&out, bytes.NewReader(in)); !errors.Is(err, io.EOF) {
				t.Fatalf("copyFrames: %v, want io.EOF at the end", err)
			}
			if tt.unchanged {
				if !bytes.Equal(out.Bytes(), in) {
					t.Errorf("the frames were changed")
				}
				return
			}
			r := bytes.NewReader(out.Bytes())
			checkFrame(t, r, tt.wantSource, tt.wantAddrs)
			poison := make([]byte, 2)
			if _, err := io.ReadFull(r, poison); err != nil || [2]byte(poison) != framePoison {
				t.Errorf("poison %x (%v), want it forwarded", poison, err)
			}
			checkFrame(t, r, tt.wantSource, tt.wantAddrs)
			if r.Len() != 0 {
				t.Errorf("%d bytes left after the frames", r.Len())
			}
		})
	}
}

func checkFrame(t *testing.T, r io.Reader, wantSource string, wantAddrs map[uint64]string) {
	t.Helper()
	method, payload := readFrame(t, r)
	if wantAddrs == nil {
		var b pb.MessageBatch
		if err := b.Unmarshal(payload); err != nil || method != frameRaft {
			t.Fatalf("method %d, %v", method, err)
		}
		if b.SourceAddress != wantSource || len(b.Requests) != 2 || string(b.Requests[1].Entries[0].Cmd) != "put" || b.BinVer != 210 {
			t.Errorf("batch %+v, want source %s and the messages unchanged", b, wantSource)
		}
		return
	}
	var c pb.Chunk
	if err := c.Unmarshal(payload); err != nil || method != frameSnapshot {
		t.Fatalf("method %d, %v", method, err)
	}
	for id, want := range wantAddrs {
		if got := c.Membership.Addresses[id]; got != want {
			t.Errorf("member %d at %s, want %s", id, got, want)
		}
	}
	if string(c.Data) != "snapshot bytes" || c.Index != 40 {
		t.Errorf("chunk %+v, want its data unchanged", c)
	}
}

func TestCopyFramesRejects(t *testing.T) {
	good := batchFrame(t, "x:1")
	badHeader := append([]byte{}, good...)
	badHeader[3] ^= 1
	tests := []struct {
		name string
		in   []byte
	}{
		{name: "bad magic", in: []byte("GET / HTTP/1.1\r\n")},
		{name: "header failing its checksum", in: badHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := addrMap{}.copyFrames(io.Discard, bytes.NewReader(tt.in))
			if !errors.Is(err, errBadFrame) {
				t.Errorf("copyFrames: %v, want errBadFrame", err)
			}
		})
	}
}
