package local

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"

	pb "github.com/lni/dragonboat/v3/raftpb"
)

// dragonboat v3.3.5's TCP transport (internal/transport/tcp.go) frames
// every message batch and snapshot chunk as a 2-byte magic number, an
// 18-byte header (method, payload size, header CRC32, payload CRC32; the
// header CRC is taken with its own field zeroed) and the protobuf payload;
// a snapshot connection ends with a 2-byte poison, which the receiver
// acknowledges with the same two bytes.
const (
	frameHeaderSize        = 18
	frameRaft       uint16 = 100
	frameSnapshot   uint16 = 200
	// maxFramePayload bounds the payload the proxy reads into memory:
	// dragonboat's batches stay under 64 MiB plus one message of at most
	// 64 MiB, its snapshot chunks under 2 MiB.
	maxFramePayload = 256 << 20
)

var (
	frameMagic  = [2]byte{0xAE, 0x7D}
	framePoison = [2]byte{0x00, 0x00}
	// errBadFrame says that a Raft link carried bytes that are not dragonboat frames.
	errBadFrame = errors.New("not a dragonboat frame")
)

// addrMap translates the Raft addresses that a link's sender knows for
// every member into those its receiver knows.
//
// Each node is bootstrapped with its own Raft address for itself and a link
// proxy's address for every other member (links.go), while dragonboat
// v3.3.5 assumes one address per member, known alike by every node: the
// receiver of a message batch records the batch's SourceAddress (the
// sender's own RaftAddress) for every sending member
// (internal/transport/transport.go, Transport.handleRequest), the installer
// of a snapshot records the snapshot's membership addresses, its own
// included (node.go, node.RestoreRemotes), and the registry panics
// ("inconsistent target") when an address differs from the one it holds
// (internal/transport/registry.go, Registry.Add) — both seen here without
// the rewrite. The link proxy therefore rewrites both into the receiver's
// addresses. Addresses inside replicated config-change entries are not
// rewritten: the local store changes no membership.
type addrMap map[string]string

// copyFrames copies dragonboat frames from src to dst, rewriting the
// addresses they carry; a frame it cannot decode goes through unchanged.
func (m addrMap) copyFrames(dst io.Writer, src io.Reader) error {
	r := bufio.NewReaderSize(src, 64<<10)
	head := make([]byte, 2+frameHeaderSize)
	var payload []byte
	for {
		if _, err := io.ReadFull(r, head[:2]); err != nil {
			return err
		}
		switch [2]byte(head[:2]) {
		case framePoison:
			if _, err := dst.Write(head[:2]); err != nil {
				return err
			}
			continue
		case frameMagic:
		default:
			return errBadFrame
		}
		if _, err := io.ReadFull(r, head[2:]); err != nil {
			return err
		}
		method, size, err := decodeFrameHeader(head[2:])
		if err != nil {
			return err
		}
		payload = grow(payload, size)
		if _, err := io.ReadFull(r, payload); err != nil {
			return err
		}
		frame := m.frame(method, head, payload)
		if _, err := frame.WriteTo(dst); err != nil {
			return err
		}
	}
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// decodeFrameHeader checks a frame header's CRC and returns its method and payload size.
func decodeFrameHeader(h []byte) (method uint16, size int, err error) {
	var zeroed [frameHeaderSize]byte
	copy(zeroed[:], h)
	binary.BigEndian.PutUint32(zeroed[10:], 0)
	if crc32.ChecksumIEEE(zeroed[:]) != binary.BigEndian.Uint32(h[10:]) {
		return 0, 0, fmt.Errorf("%w: header checksum mismatch", errBadFrame)
	}
	method = binary.BigEndian.Uint16(h)
	n := binary.BigEndian.Uint64(h[2:])
	if method != frameRaft && method != frameSnapshot {
		return 0, 0, fmt.Errorf("%w: method %d", errBadFrame, method)
	}
	if n == 0 || n > maxFramePayload {
		return 0, 0, fmt.Errorf("%w: payload of %d bytes", errBadFrame, n)
	}
	return method, int(n), nil
}

// frame returns the frame to forward: the payload with its addresses
// rewritten, or the frame as read when nothing was to rewrite or the
// payload fails its checksum or does not decode (the receiver drops it).
func (m addrMap) frame(method uint16, head, payload []byte) net.Buffers {
	if crc32.ChecksumIEEE(payload) == binary.BigEndian.Uint32(head[2+14:]) {
		if out, ok := m.rewrite(method, payload); ok {
			return net.Buffers{encodeFrame(method, out)}
		}
	}
	return net.Buffers{head, payload}
}

// rewrite returns the re-encoded payload when it carried an address to translate.
func (m addrMap) rewrite(method uint16, payload []byte) ([]byte, bool) {
	switch method {
	case frameRaft:
		var b pb.MessageBatch
		if err := b.Unmarshal(payload); err != nil || !m.translate(&b.SourceAddress) {
			return nil, false
		}
		out, err := b.Marshal()
		return out, err == nil
	default:
		var c pb.Chunk
		if err := c.Unmarshal(payload); err != nil || !m.translateMembership(&c.Membership) {
			return nil, false
		}
		out, err := c.Marshal()
		return out, err == nil
	}
}

// translate rewrites *addr and reports whether it changed.
func (m addrMap) translate(addr *string) bool {
	to, ok := m[*addr]
	if !ok || to == *addr {
		return false
	}
	*addr = to
	return true
}

func (m addrMap) translateMembership(ms *pb.Membership) bool {
	changed := false
	for _, addrs := range []map[uint64]string{ms.Addresses, ms.Observers, ms.Witnesses} {
		for id, a := range addrs {
			if m.translate(&a) {
				addrs[id] = a
				changed = true
			}
		}
	}
	return changed
}

// encodeFrame frames payload as dragonboat's TCP transport does.
func encodeFrame(method uint16, payload []byte) []byte {
	out := make([]byte, 2+frameHeaderSize, 2+frameHeaderSize+len(payload))
	copy(out, frameMagic[:])
	h := out[2:]
	binary.BigEndian.PutUint16(h, method)
	binary.BigEndian.PutUint64(h[2:], uint64(len(payload)))
	binary.BigEndian.PutUint32(h[14:], crc32.ChecksumIEEE(payload))
	binary.BigEndian.PutUint32(h[10:], crc32.ChecksumIEEE(h[:frameHeaderSize]))
	return append(out, payload...)
}
