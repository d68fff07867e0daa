<?php
/*
 * The interop SP's protected page. requireAuth() sends an unauthenticated
 * browser to the bridge and back through saml2-acs.php; once the SP holds
 * a session it prints, as JSON, the NameID and attributes SimpleSAMLphp
 * itself extracted from the assertion. When the SP refuses a response it
 * shows its own error page and never reaches this code.
 */
require_once '/usr/share/simplesamlphp/lib/_autoload.php';

$as = new \SimpleSAML\Auth\Simple('default-sp');
$as->requireAuth();

$nameID = $as->getAuthData('saml:sp:NameID');
$value = '';
$format = '';
if ($nameID instanceof \SAML2\XML\saml\NameID) {
    $value = (string) $nameID->getValue();
    $format = (string) $nameID->getFormat();
}
$attributes = [];
foreach ($as->getAttributes() as $name => $values) {
    $attributes[$name] = array_map('strval', array_values($values));
}

header('Content-Type: application/json');
header('Cache-Control: no-store');
echo json_encode(
    ['nameID' => $value, 'nameIDFormat' => $format, 'attributes' => (object) $attributes],
    JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR
);
