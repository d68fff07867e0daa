<?php
/*
 * The interop SP: one saml:SP source, default-sp, that trusts only the
 * bridge. Values come from interop.json, written by the Go peer at Start.
 */
$interop = json_decode(file_get_contents(__DIR__ . '/interop.json'), true, 8, JSON_THROW_ON_ERROR);

$config = [
    'default-sp' => [
        'saml:SP',
        'entityID' => $interop['entityID'],
        'idp' => $interop['idpEntityID'],
        'discoURL' => null,
        // One key pair for signing and decryption; the SP's metadata
        // publishes its certificate for both uses.
        'privatekey' => $interop['keyFile'],
        'certificate' => $interop['certFile'],
        'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
        // Accept plain and encrypted assertions (encrypted ones are
        // decrypted with privatekey); the IdP must sign the assertion.
        'assertion.encryption' => false,
        'sign.authnrequest' => false,
        'name' => ['en' => 'samlbridge interop SP (SimpleSAMLphp)'],
        'attributes' => $interop['requestedAttributes'],
        'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified',
    ],
];
