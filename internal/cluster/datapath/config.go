package datapath

import (
	"bytes"
	"fmt"
	"net"

	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	"github.com/gogo/protobuf/jsonpb"
)

// marshalConfig encodes config as the Atomix runtime and controllers do (jsonpb).
func marshalConfig(config rsmapiv1.ProtocolConfig) (string, error) {
	raw, err := (&jsonpb.Marshaler{}).MarshalToString(&config)
	if err != nil {
		return "", fmt.Errorf("encoding protocol config: %w", err)
	}
	return raw, nil
}

// DecodeConfig decodes an rsm ProtocolConfig from its JSON (jsonpb) form, as
// the Atomix raft controller writes it into a DataStore's spec.config;
// fields this version does not know are ignored.
func DecodeConfig(raw []byte) (rsmapiv1.ProtocolConfig, error) {
	var config rsmapiv1.ProtocolConfig
	u := jsonpb.Unmarshaler{AllowUnknownFields: true}
	if err := u.Unmarshal(bytes.NewReader(raw), &config); err != nil {
		return rsmapiv1.ProtocolConfig{}, fmt.Errorf("decoding protocol config: %w", err)
	}
	return config, nil
}

// FreePort returns a port on 127.0.0.1 that nothing listened on a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port on 127.0.0.1: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("releasing port %d: %w", port, err)
	}
	return port, nil
}
