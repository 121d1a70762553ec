package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
)

// ErrPrivateAddress is returned for a URL whose host is, or resolves to, a private,
// loopback, link-local or otherwise internal address, refused unless
// Config.AllowPrivate (KEFU_WEBHOOK_ALLOW_PRIVATE=1).
var ErrPrivateAddress = errors.New("the webhook's host is a private, loopback or link-local address")

// ErrBadURL is returned for a URL that is not an absolute http(s) URL.
var ErrBadURL = errors.New("the webhook's URL must be an absolute http:// or https:// URL")

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// internal reports whether ip is not a public address.
func internal(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip)
}

// checkURL checks a URL at registration: its form, and, unless private addresses are
// allowed, every address its host resolves to now. The dialer checks again at each
// delivery (dialControl), since the name may later resolve elsewhere.
func checkURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ErrBadURL
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if internal(ip) {
			return ErrPrivateAddress
		}
		return nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("resolving the webhook's host %q: %w", host, err)
	}
	for _, ip := range ips {
		if internal(ip) {
			return ErrPrivateAddress
		}
	}
	return nil
}

// dialControl refuses a connection to an internal address: it runs on the address
// actually dialled, after the name was resolved, so that a name that resolves to a
// public address at registration and to an internal one later (DNS rebinding) is
// refused.
func dialControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || internal(ip) {
		return fmt.Errorf("dialling %s: %w", address, ErrPrivateAddress)
	}
	return nil
}
