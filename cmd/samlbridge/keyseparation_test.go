package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/certs"
)

// writePKCS1Copy writes the key of dir/name.key (PKCS#8) again as PKCS#1
// to dir/name-pkcs1.key: the same key in another file with other bytes.
func writePKCS1Copy(t *testing.T, dir, name string) {
	t.Helper()
	kp, err := certs.LoadFiles(filepath.Join(dir, name+".key"), "")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, name+"-pkcs1.key", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(kp.Key)})))
}

// writeRenewedCert writes to dir/name a new certificate for the key of
// dir/key.key: a renewal that keeps the key.
func writeRenewedCert(t *testing.T, dir, key, name string) {
	t.Helper()
	kp, err := certs.LoadFiles(filepath.Join(dir, key+".key"), "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: key + " renewed (TEST KEY)"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &kp.Key.PublicKey, kp.Key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, name, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

// TestKeySeparation checks catalogue OIDC-20 in the configuration: every
// key is compared with every other by public key (the reused keys come
// from other files, re-encoded as PKCS#1, unless the row says so), and a
// key found in two settings is refused by "samlbridge check" and by
// "serve" at start, naming both settings. Distinct keys, and a SAML
// signing key published again in a renewed certificate, are accepted.
func TestKeySeparation(t *testing.T) {
	const (
		purposes = ": use a different key for each purpose"
		once     = ": configure each key once"
	)
	tests := []struct {
		name string
		// sig and enc replace itsme.signing_key_file and
		// itsme.encryption_key_file when set; old, next and additional
		// set itsme.old_encryption_key_files, itsme.next_signing_key_file
		// and saml.additional_signing_cert_files.
		sig, enc   string
		old        []string
		next       string
		additional []string
		// extra is appended to the itsme section.
		extra string
		// wants are the problems check and serve must report, each once;
		// none for a configuration to accept.
		wants []string
	}{
		{name: "distinct keys for every purpose", old: []string{"old.key", "old2.key"}, next: "next.key", additional: []string{"saml-next.crt"}},
		{name: "a renewed certificate of the SAML signing key", additional: []string{"saml-renewed.crt"}},

		{name: "itsme encryption key is the SAML signing key, same file", enc: "saml.key",
			wants: []string{"itsme.encryption_key_file (line 3): holds the same key as saml.signing_key_file" + purposes + " (here itsme decryption and SAML signing)"}},
		{name: "itsme encryption key is the SAML signing key", enc: "saml-pkcs1.key",
			wants: []string{"itsme.encryption_key_file (line 3): holds the same key as saml.signing_key_file" + purposes}},
		{name: "itsme signing key is the SAML signing key", sig: "saml-pkcs1.key",
			wants: []string{"itsme.signing_key_file (line 3): holds the same key as saml.signing_key_file" + purposes + " (here itsme signing and SAML signing)"}},
		{name: "itsme signing key is the itsme encryption key", enc: "sig-pkcs1.key",
			wants: []string{"itsme.encryption_key_file (line 3): holds the same key as itsme.signing_key_file" + purposes + " (here itsme decryption and itsme signing)"}},
		{name: "old encryption key is the itsme signing key", old: []string{"sig-pkcs1.key"},
			wants: []string{"itsme.old_encryption_key_files[0] (line 3): holds the same key as itsme.signing_key_file" + purposes}},
		{name: "old encryption key is the SAML signing key", old: []string{"old.key", "saml-pkcs1.key"},
			wants: []string{"itsme.old_encryption_key_files[1] (line 3): holds the same key as saml.signing_key_file" + purposes}},
		{name: "old encryption key is the current encryption key", old: []string{"enc-pkcs1.key"},
			wants: []string{"itsme.old_encryption_key_files[0] (line 3): holds the same key as itsme.encryption_key_file" + once}},
		{name: "old encryption key listed twice", old: []string{"old.key", "old-pkcs1.key"},
			wants: []string{"itsme.old_encryption_key_files[1] (line 3): holds the same key as itsme.old_encryption_key_files[0]" + once}},
		{name: "next signing key is the SAML signing key", next: "saml-pkcs1.key",
			wants: []string{"itsme.next_signing_key_file (line 3): holds the same key as saml.signing_key_file" + purposes}},
		{name: "next signing key is the current signing key", next: "sig-pkcs1.key",
			wants: []string{"itsme.next_signing_key_file (line 3): holds the same key as itsme.signing_key_file" + once}},
		{name: "next signing key is the itsme encryption key", next: "enc-pkcs1.key",
			wants: []string{"itsme.next_signing_key_file (line 3): holds the same key as itsme.encryption_key_file" + purposes}},
		{name: "next signing key is an old encryption key", old: []string{"old.key"}, next: "old-pkcs1.key",
			wants: []string{"itsme.next_signing_key_file (line 3): holds the same key as itsme.old_encryption_key_files[0]" + purposes}},
		{name: "SAML rollover certificate is for the itsme signing key", additional: []string{"sig.crt"},
			wants: []string{"itsme.signing_key_file (line 3): holds the same key as saml.additional_signing_cert_files[0]" + purposes}},
		{name: "SAML rollover certificate is for the itsme encryption key", additional: []string{"saml-next.crt", "enc.crt"},
			wants: []string{"itsme.encryption_key_file (line 3): holds the same key as saml.additional_signing_cert_files[1]" + purposes}},
		{name: "SAML rollover certificate is for an old encryption key", additional: []string{"old.crt"}, old: []string{"old.key"},
			wants: []string{"itsme.old_encryption_key_files[0] (line 3): holds the same key as saml.additional_signing_cert_files[0]" + purposes}},
		{name: "SAML rollover certificate is for the next signing key", additional: []string{"next.crt"}, next: "next.key",
			wants: []string{"itsme.next_signing_key_file (line 3): holds the same key as saml.additional_signing_cert_files[0]" + purposes}},
		{name: "every problem at once", enc: "saml.key", old: []string{"sig-pkcs1.key"}, next: "saml-pkcs1.key", extra: ", timeout: 2m",
			wants: []string{
				"itsme.encryption_key_file (line 3): holds the same key as saml.signing_key_file" + purposes,
				"itsme.old_encryption_key_files[0] (line 3): holds the same key as itsme.signing_key_file" + purposes,
				"itsme.next_signing_key_file (line 3): holds the same key as saml.signing_key_file" + purposes,
				"itsme.timeout (line 3): 2m0s",
			}},
	}
	shared := t.TempDir()
	extraKeys := []string{"old", "old2", "next", "saml-next"}
	for _, n := range extraKeys {
		writeKeyPair(t, shared, n, time.Now(), 365*24*time.Hour)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeValidConfig(t, dir, "")
			for _, n := range extraKeys {
				for _, ext := range []string{".key", ".crt"} {
					writeFile(t, dir, n+ext, readFile(t, filepath.Join(shared, n+ext)))
				}
			}
			for _, n := range []string{"saml", "sig", "enc", "old"} {
				writePKCS1Copy(t, dir, n)
			}
			writeRenewedCert(t, dir, "saml", "saml-renewed.crt")

			sig, enc, extra := "sig.key", "enc.key", tt.extra
			if tt.sig != "" {
				sig = tt.sig
			}
			if tt.enc != "" {
				enc = tt.enc
			}
			if tt.old != nil {
				extra += ", old_encryption_key_files: [" + strings.Join(tt.old, ", ") + "]"
			}
			if tt.next != "" {
				extra += ", next_signing_key_file: " + tt.next
			}
			const keys = "signing_key_file: sig.key, encryption_key_file: enc.key}"
			base := readFile(t, p)
			if !strings.Contains(base, keys) {
				t.Fatal("writeValidConfig changed; update TestKeySeparation")
			}
			writeFile(t, dir, "c.yaml", strings.Replace(base, keys, "signing_key_file: "+sig+", encryption_key_file: "+enc+extra+"}", 1))
			if tt.additional != nil {
				withAdditionalCerts(t, p, tt.additional...)
			}

			if len(tt.wants) == 0 {
				var out, errb bytes.Buffer
				if code := run(context.Background(), []string{"check", "--config", p}, &out, &errb); code != 0 {
					t.Fatalf("check exit %d:\n%s", code, errb.String())
				}
				_, r := loadResolved(t, p)
				want := 2 + len(tt.old)
				if tt.next != "" {
					want++
				}
				if got := len(r.JOSE.PublicJWKS().Keys); got != want {
					t.Errorf("/jwks has %d keys, want %d", got, want)
				}
				return
			}
			report := checkFails(t, p, tt.wants...)
			if n := strings.Count(report, "holds the same key as"); n != strings.Count(strings.Join(tt.wants, "\n"), "holds the same key as") {
				t.Errorf("check reported %d reused keys, want one line for each of %q:\n%s", n, tt.wants, report)
			}
			if strings.Contains(report, "keys: certs:") {
				t.Errorf("a reuse was reported twice (again by JOSEKeys.Validate):\n%s", report)
			}
			err := serveConfig(context.Background(), p, nil, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("serve started with a reused key")
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("serve's error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}
