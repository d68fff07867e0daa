// Command samlbridge is a SAML 2.0 identity provider that authenticates
// users with itsme® over OpenID Connect.
//
// Usage:
//
//	samlbridge demo [--addr 127.0.0.1:8080] [--state-dir DIR] [--sp-metadata FILE]...
//	samlbridge serve --config FILE
//	samlbridge check --config FILE
//	samlbridge emulator --client-id ID --redirect-uri URL --jwks-url URL --service-code CODE=TYPE [--addr 127.0.0.1:8090]
//	samlbridge metadata --config FILE [--unsigned]
//	samlbridge sp list --config FILE
//	samlbridge sp add METADATA_FILE|URL [--config FILE] [--attributes a,b] [--release a] [--attribute-profile P]
//	samlbridge decode [--config FILE] [--now RFC3339] [INPUT|-]
//	samlbridge replay --url BRIDGE_SSO_URL [INPUT|-]
//	samlbridge mint (--config FILE | --state-dir DIR [--base-url URL]) (--sp ENTITYID | --sp-metadata FILE | --request FILE) [flags]
//
// demo runs the bridge with the built-in itsme emulator and a demo SP on one
// loopback address. serve runs against real itsme with a YAML
// configuration; check validates that configuration and reports every
// problem at once. emulator runs the built-in itsme emulator alone on
// loopback, for bridges started with serve (examples/cluster). metadata,
// sp, decode and replay are the operator and tester tools of
// docs/tools.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  samlbridge demo  [--addr 127.0.0.1:8080] [--state-dir DIR] [--sp-metadata FILE]...
  samlbridge serve --config FILE
  samlbridge check --config FILE
  samlbridge emulator --client-id ID --redirect-uri URL --jwks-url URL --service-code CODE=TYPE [--addr 127.0.0.1:8090] [--issuer URL]
  samlbridge metadata --config FILE [--unsigned]
  samlbridge sp list  --config FILE
  samlbridge sp add   METADATA_FILE|URL [--config FILE] [--attributes a,b] [--release a] [--attribute-profile default|oid|microsoft]
                      [--allow-insecure-acs] [--metadata-signing-cert FILE]
  samlbridge decode   [--config FILE] [--now RFC3339] [INPUT|-]
  samlbridge replay   --url BRIDGE_SSO_URL [INPUT|-]
  samlbridge mint  (--config FILE | --state-dir DIR [--base-url URL]) (--sp ENTITYID | --sp-metadata FILE | --request FILE)
                   [--persona NAME|list] [--now RFC3339] [--in-response-to ID] [--acs URL] [--attributes A,B]
                   [--nameid-format F] [--relay-state S] [--encrypt] [--form | --base64] [--out FILE] [--seed S]
`

// run is main without os.Exit, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "check":
		err = runCheck(ctx, args[1:], stdout, stderr)
	case "emulator":
		err = runEmulator(ctx, args[1:], stdout, stderr)
	case "metadata":
		err = runMetadata(ctx, args[1:], stdout, stderr, processEnv())
	case "sp":
		err = runSP(ctx, args[1:], stdout, stderr, processEnv())
	case "decode":
		err = runDecode(ctx, args[1:], stdout, stderr, processEnv())
	case "replay":
		err = runReplay(ctx, args[1:], stdout, stderr, processEnv())
	case "mint":
		err = runMint(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "samlbridge: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "samlbridge: %v\n%s", err, usage)
			return 2
		}
		fmt.Fprintf(stderr, "samlbridge: %v\n", err)
		return 1
	}
	return 0
}

type usageError struct{ error }
