package widget

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
)

// identityFrame is a shop-signed shopper identity, as the widget sends it in its hello
// frame (docs/protocol.md, "Shopper identity").
type identityFrame struct {
	// ID is the shop's id of the buyer.
	ID string `json:"id"`
	// Attrs is the attributes' JSON text exactly as the shop signed it.
	Attrs string `json:"attrs"`
	// TS is when the shop signed it, in Unix seconds.
	TS int64 `json:"ts"`
	// Sig is the hex HMAC-SHA256 of IdentityPayload under the shop's secret.
	Sig string `json:"sig"`
}

// shopperAttrs are the attributes a shop may sign.
type shopperAttrs struct {
	Name   string          `json:"name"`
	VIP    int             `json:"vip"`
	Orders []handoff.Order `json:"orders"`
}

// Limits of a signed identity.
const (
	maxShopperNameRunes = 64
	maxShopperOrders    = 20
	maxOrderItems       = 20
	maxOrderFieldRunes  = 128
	// identitySkew is how far in the future an issued-at time may be (clock skew).
	identitySkew = 5 * time.Minute
)

var shopperIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.@:-]{1,64}$`)

// Why an identity was refused; the shopper only sees codeBadIdentity, the log the cause.
var (
	errIdentityNoSecret  = errors.New("no identity secret configured")
	errIdentityMalformed = errors.New("malformed identity")
	errIdentitySignature = errors.New("signature does not match")
	errIdentityExpired   = errors.New("identity expired or issued in the future")
	errIdentityAttrs     = errors.New("bad identity attributes")
)

// IdentityPayload is the canonical string a shop signs for shopper id, issued at ts
// (Unix seconds) with the attributes' JSON text attrs:
//
//	"kefu-identity-v1\n" + id + "\n" + ts + "\n" + attrs
//
// The signature is the lowercase hex HMAC-SHA256 of it under the shop's secret.
func IdentityPayload(id string, ts int64, attrs string) string {
	return "kefu-identity-v1\n" + id + "\n" + strconv.FormatInt(ts, 10) + "\n" + attrs
}

// SignIdentity returns the signature of IdentityPayload(id, ts, attrs) under secret, as
// a shop's server computes it.
func SignIdentity(secret []byte, id string, ts int64, attrs string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(IdentityPayload(id, ts, attrs)))
	return hex.EncodeToString(mac.Sum(nil))
}

// verifyIdentity checks a signed identity and returns the verified shopper.
func verifyIdentity(secret []byte, f identityFrame, now time.Time, maxAge time.Duration) (*handoff.Shopper, error) {
	if len(secret) == 0 {
		return nil, errIdentityNoSecret
	}
	if !shopperIDPattern.MatchString(f.ID) || f.TS <= 0 || len(f.Sig) != 64 {
		return nil, errIdentityMalformed
	}
	got, err := hex.DecodeString(strings.ToLower(f.Sig))
	if err != nil {
		return nil, errIdentityMalformed
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(IdentityPayload(f.ID, f.TS, f.Attrs)))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return nil, errIdentitySignature
	}
	issued := time.Unix(f.TS, 0)
	if now.Sub(issued) > maxAge || issued.Sub(now) > identitySkew {
		return nil, errIdentityExpired
	}
	sh := &handoff.Shopper{ID: f.ID, Verified: true}
	if strings.TrimSpace(f.Attrs) == "" {
		return sh, nil
	}
	var a shopperAttrs
	if err := json.Unmarshal([]byte(f.Attrs), &a); err != nil || !isObject([]byte(f.Attrs)) {
		return nil, errIdentityAttrs
	}
	if a.VIP < 0 || a.VIP > 5 || utf8.RuneCountInString(a.Name) > maxShopperNameRunes || len(a.Orders) > maxShopperOrders {
		return nil, errIdentityAttrs
	}
	for _, o := range a.Orders {
		if o.ID == "" || utf8.RuneCountInString(o.ID) > maxOrderFieldRunes || utf8.RuneCountInString(o.Status) > maxOrderFieldRunes || len(o.Items) > maxOrderItems {
			return nil, errIdentityAttrs
		}
		for _, it := range o.Items {
			if utf8.RuneCountInString(it) > maxOrderFieldRunes {
				return nil, errIdentityAttrs
			}
		}
	}
	sh.Name, sh.VIP, sh.Orders = strings.TrimSpace(a.Name), a.VIP, a.Orders
	return sh, nil
}

// identify reads the hello frame of a client that announced one (hello=1 in the URL)
// and verifies the identity in it; the conversation and token it names, if any, replace
// the URL's in q. sh is the verified shopper, nil for an anonymous
// visitor; refused is true when an identity was sent but not accepted (the session goes
// on as an anonymous visitor and the client is told with bad_identity after the
// welcome). ok is false when the socket broke first.
func (s *session) identify(q url.Values) (sh *handoff.Shopper, refused, ok bool) {
	if q.Get("hello") != "1" {
		return nil, false, true
	}
	ws := s.c.ws
	ws.SetReadDeadline(time.Now().Add(s.g.cfg.HelloWait))
	kind, data, err := ws.ReadMessage()
	if err != nil {
		return nil, false, false
	}
	var f clientFrame
	if kind != websocket.TextMessage || !isObject(data) || json.Unmarshal(data, &f) != nil || f.Type != "hello" {
		s.log.Info().Msg("identity refused: first frame is not a hello")
		return nil, true, true
	}
	if f.Conversation != "" || f.Token != "" {
		// The hello's conversation and token stand in for the URL's (open reads q).
		q.Set("conversation", f.Conversation)
		q.Set("token", f.Token)
	}
	if f.Identity == nil {
		return nil, false, true
	}
	sh, err = verifyIdentity(s.g.cfg.IdentitySecret, *f.Identity, s.g.cfg.Now(), s.g.cfg.IdentityMaxAge)
	if err != nil {
		s.log.Info().Err(err).Msg("identity refused")
		return nil, true, true
	}
	return sh, false, true
}

// visitorID returns a random id for an anonymous visitor.
func visitorID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "v_" + base64.RawURLEncoding.EncodeToString(b)
}

// logDetected logs, masked, the order numbers and phone numbers of a shopper's message;
// agents see them in full in the context packet, logs never do.
func (s *session) logDetected(text string) {
	dets := handoff.Detect(text)
	if len(dets) == 0 {
		return
	}
	var orders, phones []string
	for _, d := range dets {
		if d.Kind == handoff.DetectedPhone {
			phones = append(phones, d.Masked)
		} else {
			orders = append(orders, d.Masked)
		}
	}
	s.log.Info().Strs("orders", orders).Strs("phones", phones).Msg("detected in shopper message")
}
