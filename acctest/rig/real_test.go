package rig

import (
	"net"
	"strings"
	"testing"
	"time"
)

// RealInstallAttributes keeps host-network builds on loopback by a proxy nothing answers:
// if something listened on ClosedProxy's port, downloads from elsewhere would reach it.
func TestClosedProxyRefuses(t *testing.T) {
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(ClosedProxy, "http://"), 2*time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("something listens on %s: the real-install builds' proxy must refuse every connection; pick another closed loopback port for ClosedProxy", ClosedProxy)
	}
}
