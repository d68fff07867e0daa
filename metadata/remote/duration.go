package remote

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/crewjam/saml"
)

// maxDuration caps parsed xs:duration values; anything longer is as good as
// "never" for a cache.
const maxDuration = 10 * 365 * 24 * time.Hour

// parseDuration parses a non-negative xs:duration (PnYnMnDTnHnMnS) such as
// a metadata cacheDuration. Years count as 365 days and months as 30 days,
// which is precise enough for a cache lifetime. Values above ten years are
// capped.
func parseDuration(s string) (time.Duration, error) {
	orig := s
	bad := func() (time.Duration, error) { return 0, fmt.Errorf("%.40q is not a non-negative xs:duration", orig) }
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "P") || len(s) < 2 {
		return bad()
	}
	s = s[1:]
	var total float64
	inTime, any := false, false
	dateUnits := map[byte]float64{'Y': 365 * 24 * 3600, 'M': 30 * 24 * 3600, 'D': 24 * 3600}
	timeUnits := map[byte]float64{'H': 3600, 'M': 60, 'S': 1}
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime || len(s) == 1 {
				return bad()
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) || i > 20 {
			return bad()
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return bad()
		}
		unit := s[i]
		units := dateUnits
		if inTime {
			units = timeUnits
		}
		mult, ok := units[unit]
		if !ok || (unit != 'S' && strings.Contains(s[:i], ".")) {
			return bad()
		}
		delete(units, unit) // each unit at most once
		total += n * mult
		any = true
		s = s[i+1:]
	}
	if !any {
		return bad()
	}
	if total*float64(time.Second) > float64(maxDuration) {
		return maxDuration, nil
	}
	return time.Duration(total * float64(time.Second)), nil
}

// rootInfo is what the refresh logic reads from a metadata document's root
// element.
type rootInfo struct {
	validUntil    time.Time     // zero: none given
	cacheDuration time.Duration // 0: none given
}

// readRoot reads the root element's validUntil and cacheDuration. doc has
// already been accepted by metadata.ParseServiceProviders.
func readRoot(doc []byte) (rootInfo, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return rootInfo{}, errors.New("no root element")
		}
		if err != nil {
			return rootInfo{}, fmt.Errorf("reading XML: %w", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var info rootInfo
		for _, a := range start.Attr {
			if a.Name.Space != "" {
				continue
			}
			switch a.Name.Local {
			case "validUntil":
				if strings.TrimSpace(a.Value) != "" {
					var t saml.RelaxedTime
					if err := t.UnmarshalText([]byte(a.Value)); err != nil {
						return rootInfo{}, fmt.Errorf("validUntil %.40q is not a dateTime", a.Value)
					}
					info.validUntil = time.Time(t)
				}
			case "cacheDuration":
				dur, err := parseDuration(a.Value)
				if err != nil {
					return rootInfo{}, fmt.Errorf("cacheDuration: %w", err)
				}
				info.cacheDuration = dur
			}
		}
		return info, nil
	}
}
