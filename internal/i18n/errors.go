package i18n

// errorTexts are the messages of the error pages, by ErrorKey(code).
// They say what happened and what to do, and never echo request content.
var errorTexts = map[Key]Text{
	ErrorKey("malformed"): {
		EN: "The login request could not be read. Ask the administrator of the application you came from to check its SAML configuration.",
		NL: "Het aanmeldverzoek kon niet worden gelezen. Vraag de beheerder van de toepassing waar u vandaan kwam om de SAML-configuratie na te kijken.",
		FR: "La demande de connexion n’a pas pu être lue. Demandez à l’administrateur de l’application d’où vous venez de vérifier sa configuration SAML.",
		DE: "Die Anmeldeanfrage konnte nicht gelesen werden. Bitten Sie den Administrator der Anwendung, von der Sie kommen, ihre SAML-Konfiguration zu prüfen.",
	},
	ErrorKey("relay_state"): {
		EN: "The login request carries an invalid or too long RelayState (at most 1024 bytes of printable UTF-8). Ask the administrator of the application you came from to fix it.",
		NL: "Het aanmeldverzoek bevat een ongeldige of te lange RelayState (maximaal 1024 bytes afdrukbare UTF-8). Vraag de beheerder van de toepassing waar u vandaan kwam om dit te verhelpen.",
		FR: "La demande de connexion contient un RelayState non valide ou trop long (au maximum 1024 octets d’UTF-8 imprimable). Demandez à l’administrateur de l’application d’où vous venez de le corriger.",
		DE: "Die Anmeldeanfrage enthält einen ungültigen oder zu langen RelayState (höchstens 1024 Byte druckbares UTF-8). Bitten Sie den Administrator der Anwendung, von der Sie kommen, dies zu beheben.",
	},
	ErrorKey("too_large"): {
		EN: "The login request is too large. Ask the administrator of the application you came from to check its SAML configuration.",
		NL: "Het aanmeldverzoek is te groot. Vraag de beheerder van de toepassing waar u vandaan kwam om de SAML-configuratie na te kijken.",
		FR: "La demande de connexion est trop volumineuse. Demandez à l’administrateur de l’application d’où vous venez de vérifier sa configuration SAML.",
		DE: "Die Anmeldeanfrage ist zu groß. Bitten Sie den Administrator der Anwendung, von der Sie kommen, ihre SAML-Konfiguration zu prüfen.",
	},
	ErrorKey("unknown_sp"): {
		EN: "The application that sent you here is not registered with this identity provider. Ask its administrator to register its SAML metadata.",
		NL: "De toepassing die u hierheen stuurde, is niet geregistreerd bij deze identiteitsprovider. Vraag de beheerder ervan om de SAML-metadata te laten registreren.",
		FR: "L’application qui vous a envoyé ici n’est pas enregistrée auprès de ce fournisseur d’identité. Demandez à son administrateur de faire enregistrer ses métadonnées SAML.",
		DE: "Die Anwendung, die Sie hierher geschickt hat, ist bei diesem Identitätsanbieter nicht registriert. Bitten Sie ihren Administrator, ihre SAML-Metadaten registrieren zu lassen.",
	},
	ErrorKey("signature_required"): {
		EN: "The login request was not signed, but this application must sign its requests. Check the SP's signing key configuration.",
		NL: "Het aanmeldverzoek was niet ondertekend, maar deze toepassing moet haar verzoeken ondertekenen. Controleer de configuratie van de ondertekeningssleutel van de SP.",
		FR: "La demande de connexion n’était pas signée, alors que cette application doit signer ses demandes. Vérifiez la configuration de la clé de signature du SP.",
		DE: "Die Anmeldeanfrage war nicht signiert, diese Anwendung muss ihre Anfragen aber signieren. Prüfen Sie die Konfiguration des Signaturschlüssels des SP.",
	},
	ErrorKey("bad_signature"): {
		EN: "The signature on the login request is not valid. Check that the SP signs with RSA-SHA256 or stronger, with a key published in its registered metadata.",
		NL: "De handtekening op het aanmeldverzoek is ongeldig. Controleer of de SP ondertekent met RSA-SHA256 of sterker, met een sleutel uit haar geregistreerde metadata.",
		FR: "La signature de la demande de connexion n’est pas valide. Vérifiez que le SP signe en RSA-SHA256 ou plus fort, avec une clé publiée dans ses métadonnées enregistrées.",
		DE: "Die Signatur der Anmeldeanfrage ist ungültig. Prüfen Sie, ob der SP mit RSA-SHA256 oder stärker signiert, mit einem Schlüssel aus seinen registrierten Metadaten.",
	},
	ErrorKey("destination"): {
		EN: "The login request was addressed to another endpoint than this identity provider's SSO URL. Check the identity provider metadata configured in the application.",
		NL: "Het aanmeldverzoek was gericht aan een ander adres dan de SSO-URL van deze identiteitsprovider. Controleer de metadata van de identiteitsprovider die in de toepassing is ingesteld.",
		FR: "La demande de connexion était adressée à un autre point d’accès que l’URL SSO de ce fournisseur d’identité. Vérifiez les métadonnées du fournisseur d’identité configurées dans l’application.",
		DE: "Die Anmeldeanfrage war an einen anderen Endpunkt als die SSO-URL dieses Identitätsanbieters gerichtet. Prüfen Sie die in der Anwendung hinterlegten Metadaten des Identitätsanbieters.",
	},
	ErrorKey("stale"): {
		EN: "The login request has expired or is dated in the future. Go back to the application and log in again; if this keeps happening, check the clocks of both servers.",
		NL: "Het aanmeldverzoek is verlopen of draagt een datum in de toekomst. Ga terug naar de toepassing en meld u opnieuw aan; als dit blijft gebeuren, controleer dan de klokken van beide servers.",
		FR: "La demande de connexion a expiré ou est datée dans le futur. Retournez à l’application et reconnectez-vous" + nb + "; si cela se reproduit, vérifiez l’horloge des deux serveurs.",
		DE: "Die Anmeldeanfrage ist abgelaufen oder in der Zukunft datiert. Kehren Sie zur Anwendung zurück und melden Sie sich erneut an; wenn das immer wieder passiert, prüfen Sie die Uhren beider Server.",
	},
	ErrorKey("acs_not_in_metadata"): {
		EN: "The application asked for the answer to be sent to an address that is not in its registered metadata. Ask its administrator to update the SAML metadata or the application's ACS URL.",
		NL: "De toepassing vroeg om het antwoord naar een adres te sturen dat niet in haar geregistreerde metadata staat. Vraag de beheerder ervan om de SAML-metadata of de ACS-URL van de toepassing bij te werken.",
		FR: "L’application a demandé que la réponse soit envoyée à une adresse absente de ses métadonnées enregistrées. Demandez à son administrateur de mettre à jour les métadonnées SAML ou l’URL ACS de l’application.",
		DE: "Die Anwendung hat verlangt, die Antwort an eine Adresse zu senden, die nicht in ihren registrierten Metadaten steht. Bitten Sie ihren Administrator, die SAML-Metadaten oder die ACS-URL der Anwendung zu aktualisieren.",
	},
	ErrorKey("unsupported_binding"): {
		EN: "This kind of login request is not supported. The application must send it with HTTP-Redirect or HTTP-POST and accept the answer by HTTP-POST (or HTTP-Artifact where this identity provider enables it).",
		NL: "Dit soort aanmeldverzoek wordt niet ondersteund. De toepassing moet het versturen met HTTP-Redirect of HTTP-POST en het antwoord ontvangen via HTTP-POST (of HTTP-Artifact als deze identiteitsprovider dat toelaat).",
		FR: "Ce type de demande de connexion n’est pas pris en charge. L’application doit l’envoyer en HTTP-Redirect ou HTTP-POST et recevoir la réponse en HTTP-POST (ou en HTTP-Artifact si ce fournisseur d’identité l’active).",
		DE: "Diese Art von Anmeldeanfrage wird nicht unterstützt. Die Anwendung muss sie per HTTP-Redirect oder HTTP-POST senden und die Antwort per HTTP-POST empfangen (oder per HTTP-Artifact, wenn dieser Identitätsanbieter es aktiviert).",
	},
	ErrorKey("method_not_allowed"): {
		EN: "Login requests must be sent with GET (HTTP-Redirect binding) or POST (HTTP-POST binding).",
		NL: "Aanmeldverzoeken moeten worden verstuurd met GET (HTTP-Redirect-binding) of POST (HTTP-POST-binding).",
		FR: "Les demandes de connexion doivent être envoyées en GET (liaison HTTP-Redirect) ou en POST (liaison HTTP-POST).",
		DE: "Anmeldeanfragen müssen mit GET (HTTP-Redirect-Binding) oder POST (HTTP-POST-Binding) gesendet werden.",
	},
	ErrorKey("duplicate_parameter"): {
		EN: "The login request contains a SAML parameter more than once. Ask the administrator of the application you came from to check its SAML configuration.",
		NL: "Het aanmeldverzoek bevat een SAML-parameter meer dan eens. Vraag de beheerder van de toepassing waar u vandaan kwam om de SAML-configuratie na te kijken.",
		FR: "La demande de connexion contient plusieurs fois le même paramètre SAML. Demandez à l’administrateur de l’application d’où vous venez de vérifier sa configuration SAML.",
		DE: "Die Anmeldeanfrage enthält einen SAML-Parameter mehrfach. Bitten Sie den Administrator der Anwendung, von der Sie kommen, ihre SAML-Konfiguration zu prüfen.",
	},
	ErrorKey("registry_unavailable"): {
		EN: "The identity provider cannot check the application right now. Please try again in a few minutes.",
		NL: "De identiteitsprovider kan de toepassing op dit moment niet controleren. Probeer het over enkele minuten opnieuw.",
		FR: "Le fournisseur d’identité ne peut pas vérifier l’application pour le moment. Veuillez réessayer dans quelques minutes.",
		DE: "Der Identitätsanbieter kann die Anwendung gerade nicht prüfen. Bitte versuchen Sie es in einigen Minuten erneut.",
	},
	ErrorKey("bad_request"): {
		EN: "The login request from the application could not be read. Go back to the application and try again; if it keeps happening, tell the application's administrator.",
		NL: "Het aanmeldverzoek van de toepassing kon niet worden gelezen. Ga terug naar de toepassing en probeer het opnieuw; als het blijft gebeuren, verwittig dan de beheerder van de toepassing.",
		FR: "La demande de connexion de l’application n’a pas pu être lue. Retournez à l’application et réessayez" + nb + "; si le problème persiste, prévenez l’administrateur de l’application.",
		DE: "Die Anmeldeanfrage der Anwendung konnte nicht gelesen werden. Kehren Sie zur Anwendung zurück und versuchen Sie es erneut; wenn das Problem bleibt, informieren Sie den Administrator der Anwendung.",
	},
	ErrorKey("replay"): {
		EN: "This login request was already used. Go back to the application and start the login again.",
		NL: "Dit aanmeldverzoek werd al gebruikt. Ga terug naar de toepassing en meld u opnieuw aan.",
		FR: "Cette demande de connexion a déjà été utilisée. Retournez à l’application et recommencez la connexion.",
		DE: "Diese Anmeldeanfrage wurde bereits verwendet. Kehren Sie zur Anwendung zurück und starten Sie die Anmeldung erneut.",
	},
	ErrorKey("store_unavailable"): {
		EN: "The identity service is temporarily unavailable. Please try again in a few minutes.",
		NL: "De identiteitsdienst is tijdelijk niet beschikbaar. Probeer het over enkele minuten opnieuw.",
		FR: "Le service d’identité est temporairement indisponible. Veuillez réessayer dans quelques minutes.",
		DE: "Der Identitätsdienst ist vorübergehend nicht verfügbar. Bitte versuchen Sie es in einigen Minuten erneut.",
	},
	ErrorKey("bad_callback"): {
		EN: "The answer from itsme could not be read. Go back to the application and start the login again.",
		NL: "Het antwoord van itsme kon niet worden gelezen. Ga terug naar de toepassing en meld u opnieuw aan.",
		FR: "La réponse d’itsme n’a pas pu être lue. Retournez à l’application et recommencez la connexion.",
		DE: "Die Antwort von itsme konnte nicht gelesen werden. Kehren Sie zur Anwendung zurück und starten Sie die Anmeldung erneut.",
	},
	ErrorKey("unknown_state"): {
		EN: "This login has expired or was already completed. Go back to the application and start the login again.",
		NL: "Deze aanmelding is verlopen of werd al afgerond. Ga terug naar de toepassing en meld u opnieuw aan.",
		FR: "Cette connexion a expiré ou est déjà terminée. Retournez à l’application et recommencez la connexion.",
		DE: "Diese Anmeldung ist abgelaufen oder wurde bereits abgeschlossen. Kehren Sie zur Anwendung zurück und starten Sie die Anmeldung erneut.",
	},
	ErrorKey("browser_binding"): {
		EN: "This login was started in another browser or the browser's cookies were blocked. Start the login again from the application in this browser, and allow cookies for this site.",
		NL: "Deze aanmelding werd in een andere browser gestart, of de browser blokkeerde cookies. Start de aanmelding opnieuw vanuit de toepassing in deze browser en sta cookies toe voor deze site.",
		FR: "Cette connexion a été lancée dans un autre navigateur, ou le navigateur a bloqué les cookies. Relancez la connexion depuis l’application dans ce navigateur et autorisez les cookies pour ce site.",
		DE: "Diese Anmeldung wurde in einem anderen Browser gestartet, oder der Browser hat Cookies blockiert. Starten Sie die Anmeldung in diesem Browser erneut aus der Anwendung und erlauben Sie Cookies für diese Website.",
	},
	ErrorKey("sp_gone"): {
		EN: "The application you were logging in to is no longer registered with this identity provider. Contact its administrator.",
		NL: "De toepassing waarbij u zich aanmeldde, is niet langer geregistreerd bij deze identiteitsprovider. Neem contact op met de beheerder ervan.",
		FR: "L’application à laquelle vous vous connectiez n’est plus enregistrée auprès de ce fournisseur d’identité. Contactez son administrateur.",
		DE: "Die Anwendung, bei der Sie sich angemeldet haben, ist bei diesem Identitätsanbieter nicht mehr registriert. Wenden Sie sich an ihren Administrator.",
	},
	ErrorKey("internal_error"): {
		EN: "Something went wrong on our side. Please try again; if it keeps happening, contact the service desk.",
		NL: "Er ging bij ons iets mis. Probeer het opnieuw; als het blijft gebeuren, neem dan contact op met de servicedesk.",
		FR: "Un problème est survenu de notre côté. Veuillez réessayer" + nb + "; si le problème persiste, contactez le service d’assistance.",
		DE: "Bei uns ist ein Fehler aufgetreten. Bitte versuchen Sie es erneut; wenn das Problem bleibt, wenden Sie sich an den Support.",
	},
	ErrorKey("rate_limited"): {
		EN: "Too many login attempts from your network. Wait a minute and try again.",
		NL: "Te veel aanmeldpogingen vanaf uw netwerk. Wacht een minuut en probeer het opnieuw.",
		FR: "Trop de tentatives de connexion depuis votre réseau. Patientez une minute et réessayez.",
		DE: "Zu viele Anmeldeversuche aus Ihrem Netzwerk. Warten Sie eine Minute und versuchen Sie es erneut.",
	},
	ErrorKey("artifact_disabled"): {
		EN: "The application asked for the answer by the SAML Artifact binding, which this identity provider does not offer. Ask its administrator to use HTTP-POST.",
		NL: "De toepassing vroeg het antwoord op via de SAML-Artifact-binding, die deze identiteitsprovider niet aanbiedt. Vraag de beheerder ervan om HTTP-POST te gebruiken.",
		FR: "L’application a demandé la réponse via la liaison SAML Artifact, que ce fournisseur d’identité ne propose pas. Demandez à son administrateur d’utiliser HTTP-POST.",
		DE: "Die Anwendung hat die Antwort über das SAML-Artifact-Binding angefordert, das dieser Identitätsanbieter nicht anbietet. Bitten Sie ihren Administrator, HTTP-POST zu verwenden.",
	},
	ErrorKey("logout_chain_unknown"): {
		EN: "This logout has expired or was already completed. Close your browser to make sure every session has ended.",
		NL: "Deze afmelding is verlopen of werd al afgerond. Sluit uw browser om zeker te zijn dat elke sessie beëindigd is.",
		FR: "Cette déconnexion a expiré ou est déjà terminée. Fermez votre navigateur pour être certain que toutes les sessions sont fermées.",
		DE: "Diese Abmeldung ist abgelaufen oder wurde bereits abgeschlossen. Schließen Sie Ihren Browser, um sicherzugehen, dass alle Sitzungen beendet sind.",
	},
	ErrorKey("logout_chain_mismatch"): {
		EN: "An application answered a logout it was not asked for. Close your browser to make sure every session has ended.",
		NL: "Een toepassing antwoordde op een afmelding waar haar niet om gevraagd was. Sluit uw browser om zeker te zijn dat elke sessie beëindigd is.",
		FR: "Une application a répondu à une déconnexion qui ne lui avait pas été demandée. Fermez votre navigateur pour être certain que toutes les sessions sont fermées.",
		DE: "Eine Anwendung hat auf eine Abmeldung geantwortet, um die sie nicht gebeten wurde. Schließen Sie Ihren Browser, um sicherzugehen, dass alle Sitzungen beendet sind.",
	},
	ErrorKey("unsolicited_malformed"): {
		EN: "This login link is not valid. Start the login from the application instead; if it keeps happening, tell the application's administrator.",
		NL: "Deze aanmeldlink is ongeldig. Start de aanmelding vanuit de toepassing zelf; als het blijft gebeuren, verwittig dan de beheerder van de toepassing.",
		FR: "Ce lien de connexion n’est pas valide. Lancez plutôt la connexion depuis l’application" + nb + "; si le problème persiste, prévenez l’administrateur de l’application.",
		DE: "Dieser Anmeldelink ist ungültig. Starten Sie die Anmeldung stattdessen aus der Anwendung; wenn das Problem bleibt, informieren Sie den Administrator der Anwendung.",
	},
	ErrorKey("unsolicited_not_allowed"): {
		EN: "This application does not accept logins started here. Start the login from the application itself.",
		NL: "Deze toepassing aanvaardt geen aanmeldingen die hier gestart worden. Start de aanmelding vanuit de toepassing zelf.",
		FR: "Cette application n’accepte pas les connexions lancées ici. Lancez la connexion depuis l’application elle-même.",
		DE: "Diese Anwendung akzeptiert keine hier gestarteten Anmeldungen. Starten Sie die Anmeldung aus der Anwendung selbst.",
	},
}
