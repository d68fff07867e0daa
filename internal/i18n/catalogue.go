package i18n

import "fmt"

// Key names one text of the catalogue.
type Key string

// Text is one text in every supported language. The completeness test
// checks that none is empty and that all four use the same format verbs.
type Text struct {
	EN, NL, FR, DE string
}

// In returns the text in l, in English when l is not supported.
func (t Text) In(l Lang) string {
	switch l {
	case NL:
		return t.NL
	case FR:
		return t.FR
	case DE:
		return t.DE
	}
	return t.EN
}

// T returns the text k in l, formatted with args when there are any. An
// unknown key gives the key itself, so a missing text shows up in the
// page (and in the golden files) instead of failing the request.
func (l Lang) T(k Key, args ...any) string {
	t, ok := catalogue[k]
	if !ok {
		return string(k)
	}
	s := t.In(l)
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Has reports whether k is in the catalogue.
func Has(k Key) bool {
	_, ok := catalogue[k]
	return ok
}

// Keys returns every key of the catalogue, in no particular order.
func Keys() []Key {
	out := make([]Key, 0, len(catalogue))
	for k := range catalogue {
		out = append(out, k)
	}
	return out
}

// Lookup returns the text k in every language.
func Lookup(k Key) (Text, bool) {
	t, ok := catalogue[k]
	return t, ok
}

// ErrorKey is the catalogue key of the message shown for an error page's
// stable code (see ErrorCodes).
func ErrorKey(code string) Key { return Key("err." + code) }

// ErrorCodes lists the stable codes the bridge's error pages show, in
// the order of docs/pages.md. Each has the text ErrorKey(code).
var ErrorCodes = []string{
	// The AuthnRequest or logout message itself (package saml).
	"malformed", "relay_state", "too_large", "unknown_sp", "signature_required", "bad_signature",
	"destination", "stale", "acs_not_in_metadata", "unsupported_binding", "method_not_allowed",
	"duplicate_parameter", "registry_unavailable",
	// The flow (package server).
	"bad_request", "replay", "store_unavailable", "bad_callback", "unknown_state", "browser_binding",
	"sp_gone", "internal_error", "rate_limited", "artifact_disabled",
	"logout_chain_unknown", "logout_chain_mismatch", "unsolicited_malformed", "unsolicited_not_allowed",
}

// Keys of the bridge's and the emulator's page texts.
const (
	ErrorTitle   Key = "page.error.title"
	ErrorHeading Key = "page.error.heading"
	ErrorCode    Key = "page.error.code"
	ErrorHelp    Key = "page.error.help"

	LogoutTitle    Key = "page.logout.title"
	LogoutHeading  Key = "page.logout.heading"
	LoggedOut      Key = "logout.done"
	PartialLogout  Key = "logout.partial"
	LogoutNoReturn Key = "logout.no_return"

	PostTitle    Key = "page.post.title"
	PostHeading  Key = "page.post.heading"
	PostNoScript Key = "page.post.noscript"
	PostContinue Key = "page.post.continue"

	EmuPhoneTitle    Key = "emulator.phone.title"
	EmuHeading       Key = "emulator.heading"
	EmuAsksConfirm   Key = "emulator.asks.confirm"
	EmuAsksLogin     Key = "emulator.asks.login"
	EmuAsksShare     Key = "emulator.asks.share"
	EmuServiceMeta   Key = "emulator.service"
	EmuToApprove     Key = "emulator.approve.heading"
	EmuPay           Key = "emulator.approve.pay"
	EmuDataHeading   Key = "emulator.data.heading"
	EmuDataNone      Key = "emulator.data.none"
	EmuPersonaLegend Key = "emulator.persona.legend"
	EmuConfirm       Key = "emulator.button.confirm"
	EmuRefuse        Key = "emulator.button.refuse"
	EmuFooter        Key = "emulator.footer"
	EmuErrorTitle    Key = "emulator.error.title"
	EmuErrorHeading  Key = "emulator.error.heading"
	EmuErrorExplain  Key = "emulator.error.explain"
	EmuErrorDetail   Key = "emulator.error.detail"
)

// nb is a no-break space, as French typography puts before ":", ";",
// "?" and "!".
const nb = "\u00a0"

// catalogue is every text: the pages' and the error messages'.
var catalogue = merge(pageTexts, errorTexts)

// merge joins text maps; a key in two of them is a programming error
// the completeness test catches (the later map wins).
func merge(maps ...map[Key]Text) map[Key]Text {
	out := map[Key]Text{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// pageTexts are the pages' fixed texts.
var pageTexts = map[Key]Text{
	ErrorTitle: {
		EN: "Login problem",
		NL: "Probleem bij het aanmelden",
		FR: "Problème de connexion",
		DE: "Problem bei der Anmeldung",
	},
	ErrorHeading: {
		EN: "We could not log you in",
		NL: "We konden u niet aanmelden",
		FR: "Nous n’avons pas pu vous connecter",
		DE: "Wir konnten Sie nicht anmelden",
	},
	ErrorCode: {
		EN: "Error code: %s",
		NL: "Foutcode: %s",
		FR: "Code d’erreur" + nb + ": %s",
		DE: "Fehlercode: %s",
	},
	ErrorHelp: {
		EN: "If you contact the service desk, mention this code.",
		NL: "Vermeld deze code als u contact opneemt met de servicedesk.",
		FR: "Mentionnez ce code si vous contactez le service d’assistance.",
		DE: "Nennen Sie diesen Code, wenn Sie sich an den Support wenden.",
	},

	LogoutTitle:   {EN: "Logged out", NL: "Afgemeld", FR: "Déconnexion terminée", DE: "Abgemeldet"},
	LogoutHeading: {EN: "Logout", NL: "Afmelden", FR: "Déconnexion", DE: "Abmeldung"},
	LoggedOut: {
		EN: "You are logged out.",
		NL: "U bent afgemeld.",
		FR: "La déconnexion est terminée.",
		DE: "Sie sind abgemeldet.",
	},
	PartialLogout: {
		EN: "You are logged out here, but some applications could not be reached. Close your browser to end every session.",
		NL: "U bent hier afgemeld, maar sommige toepassingen konden niet worden bereikt. Sluit uw browser om elke sessie te beëindigen.",
		FR: "La déconnexion est faite ici, mais certaines applications n’ont pas pu être jointes. Fermez votre navigateur pour mettre fin à toutes les sessions.",
		DE: "Sie sind hier abgemeldet, aber einige Anwendungen waren nicht erreichbar. Schließen Sie Ihren Browser, um alle Sitzungen zu beenden.",
	},
	LogoutNoReturn: {
		EN: "You are logged out of the identity provider. The application that asked for the logout has no logout address registered, so you cannot be sent back to it.",
		NL: "U bent afgemeld bij de identiteitsprovider. De toepassing die om de afmelding vroeg, heeft geen afmeldadres geregistreerd, dus u kunt er niet naar worden teruggestuurd.",
		FR: "La déconnexion du fournisseur d’identité est terminée. L’application qui a demandé la déconnexion n’a pas enregistré d’adresse de déconnexion" + nb + ": il n’est donc pas possible de vous y renvoyer.",
		DE: "Sie sind beim Identitätsanbieter abgemeldet. Die Anwendung, die die Abmeldung angefordert hat, hat keine Abmeldeadresse registriert, daher können Sie nicht zu ihr zurückgeleitet werden.",
	},

	PostTitle: {
		EN: "Returning to the application",
		NL: "Terug naar de toepassing",
		FR: "Retour vers l’application",
		DE: "Zurück zur Anwendung",
	},
	PostHeading: {
		EN: "Returning to the application…",
		NL: "Terug naar de toepassing…",
		FR: "Retour vers l’application…",
		DE: "Zurück zur Anwendung …",
	},
	PostNoScript: {
		EN: "JavaScript is turned off in your browser. Press Continue to return to the application.",
		NL: "JavaScript staat uit in uw browser. Klik op Doorgaan om terug te keren naar de toepassing.",
		FR: "JavaScript est désactivé dans votre navigateur. Cliquez sur Continuer pour revenir à l’application.",
		DE: "JavaScript ist in Ihrem Browser deaktiviert. Klicken Sie auf „Weiter“, um zur Anwendung zurückzukehren.",
	},
	PostContinue: {EN: "Continue", NL: "Doorgaan", FR: "Continuer", DE: "Weiter"},

	EmuPhoneTitle: {
		EN: "itsme emulator – confirm",
		NL: "itsme-emulator – bevestigen",
		FR: "Émulateur itsme – confirmer",
		DE: "itsme-Emulator – bestätigen",
	},
	EmuHeading: {EN: "itsme® emulator", NL: "itsme®-emulator", FR: "Émulateur itsme®", DE: "itsme®-Emulator"},
	EmuAsksConfirm: {
		EN: "%s asks you to confirm.",
		NL: "%s vraagt u om te bevestigen.",
		FR: "%s vous demande de confirmer.",
		DE: "%s bittet Sie um eine Bestätigung.",
	},
	EmuAsksLogin: {
		EN: "%s asks you to log in.",
		NL: "%s vraagt u om aan te melden met itsme.",
		FR: "%s vous demande de vous connecter avec itsme.",
		DE: "%s bittet Sie, sich mit itsme anzumelden.",
	},
	EmuAsksShare: {
		EN: "%s asks you to share your data.",
		NL: "%s vraagt u om uw gegevens te delen.",
		FR: "%s vous demande de partager vos données.",
		DE: "%s bittet Sie, Ihre Daten freizugeben.",
	},
	EmuServiceMeta: {
		EN: "Service %s (%s), security level %s.",
		NL: "Dienst %s (%s), beveiligingsniveau %s.",
		FR: "Service %s (%s), niveau de sécurité %s.",
		DE: "Dienst %s (%s), Sicherheitsstufe %s.",
	},
	EmuToApprove: {EN: "To approve", NL: "Te bevestigen", FR: "À approuver", DE: "Zu bestätigen"},
	EmuPay: {
		EN: "Pay %s %s to %s",
		NL: "Betaling van %s %s aan %s",
		FR: "Paiement de %s %s à %s",
		DE: "Zahlung von %s %s an %s",
	},
	EmuDataHeading: {EN: "Data requested", NL: "Gevraagde gegevens", FR: "Données demandées", DE: "Angeforderte Daten"},
	EmuDataNone: {
		EN: "No personal data is requested beyond your itsme identifier.",
		NL: "Er worden geen persoonsgegevens gevraagd buiten uw itsme-identificatie.",
		FR: "Aucune donnée personnelle n’est demandée en dehors de votre identifiant itsme.",
		DE: "Außer Ihrer itsme-Kennung werden keine personenbezogenen Daten angefordert.",
	},
	EmuPersonaLegend: {
		EN: "Who is holding the phone?",
		NL: "Wie heeft de telefoon in handen?",
		FR: "Qui tient le téléphone" + nb + "?",
		DE: "Wer hält das Telefon?",
	},
	EmuConfirm: {EN: "Confirm", NL: "Bevestigen", FR: "Confirmer", DE: "Bestätigen"},
	EmuRefuse:  {EN: "Refuse", NL: "Weigeren", FR: "Refuser", DE: "Ablehnen"},
	EmuFooter: {
		EN: "Local emulator for tests and demos. Nothing leaves this machine.",
		NL: "Lokale emulator voor tests en demo’s. Niets verlaat deze computer.",
		FR: "Émulateur local pour les tests et les démonstrations. Rien ne quitte cette machine.",
		DE: "Lokaler Emulator für Tests und Demos. Nichts verlässt diesen Rechner.",
	},
	EmuErrorTitle: {
		EN: "itsme emulator – error",
		NL: "itsme-emulator – fout",
		FR: "Émulateur itsme – erreur",
		DE: "itsme-Emulator – Fehler",
	},
	EmuErrorHeading: {
		EN: "itsme® emulator: request refused",
		NL: "itsme®-emulator: verzoek geweigerd",
		FR: "Émulateur itsme®" + nb + ": demande refusée",
		DE: "itsme®-Emulator: Anfrage abgelehnt",
	},
	EmuErrorExplain: {
		EN: "The answer was not sent back to the application: its client, redirect URI or request could not be trusted.",
		NL: "Het antwoord werd niet naar de toepassing teruggestuurd: de client, de redirect-URI of het verzoek was niet betrouwbaar.",
		FR: "La réponse n’a pas été renvoyée à l’application" + nb + ": son client, son URI de redirection ou sa demande n’étaient pas fiables.",
		DE: "Die Antwort wurde nicht an die Anwendung zurückgesendet: Client, Redirect-URI oder Anfrage waren nicht vertrauenswürdig.",
	},
	EmuErrorDetail: {
		EN: "Technical detail:",
		NL: "Technisch detail (in het Engels):",
		FR: "Détail technique (en anglais)" + nb + ":",
		DE: "Technisches Detail (auf Englisch):",
	},
}
