<?php
/*
 * The benchmark IdP: signs both the Response and the Assertion with
 * RSA-SHA256 using the key pair samlbench gave it, and issues a
 * persistent NameID derived from the uid attribute.
 */
require_once dirname(__DIR__) . '/settings.php';

$bench = samlbench_settings();

$metadata[$bench['idpEntityID']] = [
    'host' => '__DEFAULT__',
    'privatekey' => $bench['keyFile'],
    'certificate' => $bench['certFile'],
    'auth' => 'bench-static',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
    'assertion.encryption' => false,
    'validate.authnrequest' => false,
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'authproc' => [
        // A pairwise opaque value: SHA-1 of the salt, both entity IDs and
        // the uid, as SimpleSAMLphp documents for persistent NameIDs.
        10 => ['class' => 'saml:PersistentNameID', 'attribute' => 'uid'],
    ],
];
