//go:build !linux

package experiment

func enterRealtime() (restore func(), ok bool) { return nil, false }
