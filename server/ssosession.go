package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/session"
)

// SSOSession configures the bridge's own single sign-on session. itsme
// keeps none, so by default every login needs a confirmation on the phone.
// With sessions on, a login proved once serves later requests from the
// same browser (IsPassive included) until the session expires, as long as
// it proves what they ask; Single Logout then ends it at every SP.
type SSOSession struct {
	// Enabled turns sessions on (default off).
	Enabled bool
	// Lifetime bounds a session from its first login (default 1 h).
	Lifetime time.Duration
}

// ssoRecordPrefix is the store record kind of SSO sessions.
const ssoRecordPrefix = "sso|"

// ssoSession is what the store keeps for one SSO session. It holds the
// verified identity (the store seals it: Redis values are encrypted), so
// that later logins release the same values without asking itsme again.
type ssoSession struct {
	Issuer   string         `json:"iss"`
	Subject  string         `json:"sub"`
	ACR      string         `json:"acr,omitempty"`
	AuthTime time.Time      `json:"auth_time"`
	Claims   map[string]any `json:"claims,omitempty"`
	// Names are the contract attribute names the claims cover.
	Names []string `json:"names,omitempty"`
	// Participants are the SPs answered in this session, for logout.
	Participants []participant `json:"participants,omitempty"`
	Created      time.Time     `json:"created"`
	Expires      time.Time     `json:"expires"`
}

// participant is one SP answered in a session: what its LogoutRequest
// must name.
type participant struct {
	SP            string `json:"sp"`
	NameID        string `json:"name_id"`
	NameIDFormat  string `json:"name_id_format"`
	NameQualifier string `json:"nq,omitempty"`
	SessionIndex  string `json:"session_index"`
}

// serves reports whether the session proves what a login needs: an acr
// at least as strong as asked, and every attribute already fetched.
func (ss *ssoSession) serves(acr string, names []string) bool {
	if acr == itsme.ACRAdvanced && ss.ACR != itsme.ACRAdvanced {
		return false
	}
	for _, n := range names {
		if !slices.Contains(ss.Names, n) {
			return false
		}
	}
	return true
}

// identity is the session's identity, as itsme proved it.
func (ss *ssoSession) identity() *itsme.Identity {
	return &itsme.Identity{Issuer: ss.Issuer, Subject: ss.Subject, ACR: ss.ACR, AuthTime: ss.AuthTime, Claims: ss.Claims}
}

// ssoCookieName is the session cookie's name; __Host- over https (see
// flowCookieName).
func (s *Server) ssoCookieName() string {
	if s.secure {
		return "__Host-samlbridge_sso"
	}
	return "samlbridge_sso"
}

// setSSOCookie sets (or, with maxAge < 0, clears) the session cookie.
// Over https it is SameSite=None, so that an SP's cross-site POST (an
// AuthnRequest or a LogoutRequest by the POST binding) carries it; on
// plain-http loopback browsers refuse None without Secure, so it is Lax.
func (s *Server) setSSOCookie(w http.ResponseWriter, value string, maxAge int) {
	same := http.SameSiteLaxMode
	if s.secure {
		same = http.SameSiteNoneMode
	}
	http.SetCookie(w, &http.Cookie{Name: s.ssoCookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: same})
}

// loadSSOSession returns the browser's live session and its ID, or nil.
// A store failure is logged and treated as no session: the login then
// goes to itsme, which is always safe.
func (s *Server) loadSSOSession(r *http.Request, now time.Time) (*ssoSession, string) {
	if !s.cfg.SSOSession.Enabled {
		return nil, ""
	}
	c, err := r.Cookie(s.ssoCookieName())
	if err != nil || c.Value == "" || len(c.Value) > 64 {
		return nil, ""
	}
	raw, err := s.cfg.Store.GetRecord(r.Context(), ssoRecordPrefix+c.Value, now)
	if err != nil {
		if !errors.Is(err, session.ErrNotFound) {
			s.logger(r.Context()).Warn("reading the SSO session failed", "err", err)
		}
		return nil, ""
	}
	ss := parseSSOSession(raw, now)
	if ss == nil {
		return nil, ""
	}
	return ss, c.Value
}

// parseSSOSession decodes a stored session; nil when raw is not one or it
// has expired at now.
func parseSSOSession(raw []byte, now time.Time) *ssoSession {
	var ss ssoSession
	if raw == nil || json.Unmarshal(raw, &ss) != nil || !now.Before(ss.Expires) {
		return nil
	}
	return &ss
}

// belongsTo reports whether ss is a session of issuer's user subject;
// false for nil.
func (ss *ssoSession) belongsTo(issuer, subject string) bool {
	return ss != nil && ss.Issuer == issuer && ss.Subject == subject
}

// saveSSOSession adds p to the browser's session, or starts one. A
// session of another user is replaced, never merged. The session is
// updated in the store atomically, so that two logins finishing at once
// in one browser both stay in it (and both SPs get Single Logout); a
// session that ended or changed hands meanwhile is replaced by a new one.
// Failures are logged: the login itself has succeeded.
func (s *Server) saveSSOSession(w http.ResponseWriter, r *http.Request, sid string, ss *ssoSession, g grant, p participant, log *slog.Logger) {
	now := s.cfg.Now()
	id := g.id
	names := planNames(g.attributes, g.nameIDFormat)
	if ss.belongsTo(id.Issuer, id.Subject) {
		var saved *ssoSession
		err := s.cfg.Store.UpdateRecord(r.Context(), ssoRecordPrefix+sid, now, func(cur []byte) ([]byte, time.Time, error) {
			live := parseSSOSession(cur, now)
			if !live.belongsTo(id.Issuer, id.Subject) {
				return nil, time.Time{}, errSessionGone
			}
			live.add(id, names, p)
			raw, err := json.Marshal(live)
			if err != nil {
				return nil, time.Time{}, fmt.Errorf("encoding the SSO session: %w", err)
			}
			saved = live
			return raw, live.Expires, nil
		})
		switch {
		case err == nil:
			s.setSSOCookie(w, sid, int(saved.Expires.Sub(now).Seconds()))
			return
		case !errors.Is(err, errSessionGone):
			log.Warn("storing the SSO session failed", "err", err)
			return
		}
	}
	lifetime := s.cfg.SSOSession.Lifetime
	if lifetime <= 0 {
		lifetime = time.Hour
	}
	sid, err := randomToken(s.cfg.Rand)
	if err != nil {
		log.Warn("starting the SSO session failed", "err", err)
		return
	}
	fresh := &ssoSession{Issuer: id.Issuer, Subject: id.Subject, Created: now, Expires: now.Add(lifetime), Claims: map[string]any{}}
	fresh.add(id, names, p)
	raw, err := json.Marshal(fresh)
	if err != nil {
		log.Warn("encoding the SSO session failed", "err", err)
		return
	}
	if err := s.cfg.Store.PutRecord(r.Context(), ssoRecordPrefix+sid, raw, fresh.Expires); err != nil {
		log.Warn("storing the SSO session failed", "err", err)
		return
	}
	s.setSSOCookie(w, sid, int(fresh.Expires.Sub(now).Seconds()))
}

// errSessionGone is an SSO session update's refusal: the session the
// login started from has ended, expired or now belongs to another user.
var errSessionGone = errors.New("server: the SSO session ended or changed hands")

// add records a login of id in the session: the stronger acr, the later
// auth_time, the claims and contract names it fetched, and p as the
// session's participant for its SP (replacing an earlier one).
func (ss *ssoSession) add(id *itsme.Identity, names []string, p participant) {
	if id.ACR == itsme.ACRAdvanced || ss.ACR == "" {
		ss.ACR = id.ACR
	}
	if id.AuthTime.After(ss.AuthTime) {
		ss.AuthTime = id.AuthTime
	}
	if ss.Claims == nil {
		ss.Claims = map[string]any{}
	}
	for k, v := range id.Claims {
		ss.Claims[k] = v
	}
	for _, n := range names {
		if !slices.Contains(ss.Names, n) {
			ss.Names = append(ss.Names, n)
		}
	}
	ss.Participants = slices.DeleteFunc(ss.Participants, func(q participant) bool { return q.SP == p.SP })
	ss.Participants = append(ss.Participants, p)
}

// randomToken returns 256 random bits as base64url without padding.
func randomToken(rnd io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("server: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
