// Package simplesamlphp holds the configuration that runs Debian's
// SimpleSAMLphp 1.19 as a SAML 2.0 IdP under Apache and mod_php, for
// samlbridge's side-by-side throughput benchmark (cmd/samlbench).
//
// The PHP files read their per-run settings from bench.json, which the
// benchmark writes next to them; apache2.conf.tmpl is a text/template
// filled with the run's directory and port.
package simplesamlphp

import "embed"

// Files are config.php, authsources.php, settings.php,
// metadata/saml20-idp-hosted.php, metadata/saml20-sp-remote.php and
// apache2.conf.tmpl.
//
//go:embed *.php metadata/*.php apache2.conf.tmpl
var Files embed.FS
