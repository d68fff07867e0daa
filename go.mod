module github.com/samlbridge/samlbridge

go 1.26.8

require (
	github.com/beevik/etree v1.8.1 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/crewjam/saml v0.5.1 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	github.com/jonboulle/clockwork v0.5.0 // indirect
	github.com/mattermost/xml-roundtrip-validator v0.1.0 // indirect
	github.com/russellhaering/goxmldsig v1.6.1 // indirect
	golang.org/x/crypto v0.33.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
