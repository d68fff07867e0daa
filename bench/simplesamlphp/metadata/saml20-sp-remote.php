<?php
/*
 * The benchmark's one SP: an HTTP-POST ACS, unsigned AuthnRequests
 * (validate.authnrequest off), signed Response and Assertion, no
 * encryption.
 */
require_once dirname(__DIR__) . '/settings.php';

$bench = samlbench_settings();
$sp = $bench['sp'];

$metadata[$sp['entityID']] = [
    'AssertionConsumerService' => [
        [
            'index' => 0,
            'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
            'Location' => $sp['acsURL'],
        ],
    ],
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
    'assertion.encryption' => false,
    'nameid.encryption' => false,
    'validate.authnrequest' => false,
];
if (($sp['certData'] ?? '') !== '') {
    $metadata[$sp['entityID']]['certData'] = $sp['certData'];
}
