package node

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Everything a mission puts on the wire under a name — protocol IDs, the
// gossip topic, mDNS service names — is derived from the mission secret,
// so an outsider (or a libp2p peer that is not a member and asks the
// identify protocol) sees random labels: never "vigil", a mission name or
// a key. Members derive the same labels independently.

var label = base32.StdEncoding.WithPadding(base32.NoPadding)

// Derive returns a short lower-case label for purpose under secret.
func Derive(secret []byte, purpose string, n int) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("vigil/derive/v1\x00" + purpose))
	s := strings.ToLower(label.EncodeToString(m.Sum(nil)))
	if n > len(s) {
		n = len(s)
	}
	return s[:n]
}

// ProtocolID is the stream protocol for name (hello, recon, fetch, …) on
// the listener with peer ID listener: it registers it under its own ID,
// and a dialer derives it from the ID it dials. No two members show a
// common protocol ID to the identify protocol, so a plain libp2p peer
// connected to several cannot tell they belong to one mission.
func ProtocolID(secret []byte, name string, listener peer.ID) protocol.ID {
	return protocol.ID("/" + Derive(secret, "proto/"+name+"/"+string(listener), 12) + "/1")
}

// TopicName is the mission's gossip topic: the one every version joins.
func TopicName(secret []byte) string { return Derive(secret, "topic", 20) }

// LevelTopicName is the gossip topic for records that a build of a format
// level below level cannot store (a newer build's kinds and fields); only
// builds at level or above join it. Level 0 is TopicName.
func LevelTopicName(secret []byte, level int) string {
	if level <= 0 {
		return TopicName(secret)
	}
	return Derive(secret, "topic/level/"+strconv.Itoa(level), 20)
}

// MDNSService is the mDNS service name for a rotation epoch.
func MDNSService(secret []byte, epoch int64) string {
	return "_" + Derive(secret, "mdns/"+strconv.FormatInt(epoch, 10), 12) + "._udp"
}
