<?php
/*
 * SimpleSAMLphp config for the samlbridge interop SP. Debian's own
 * /etc/simplesamlphp/config.php gives the defaults; what this run needs
 * (base URL, salt, paths in the run's directory) comes from interop.json,
 * which the Go peer writes next to this file at Start.
 */
require '/etc/simplesamlphp/config.php';

$interop = json_decode(file_get_contents(__DIR__ . '/interop.json'), true, 8, JSON_THROW_ON_ERROR);

// A file-backed store (see FileStore.php): with Debian's default
// 'phpsession' store SimpleSAMLphp keeps no record of the assertions it
// consumed, and a replayed response is accepted as unsolicited.
require_once __DIR__ . '/FileStore.php';

$config = array_merge($config, [
    'baseurlpath' => $interop['baseURL'],
    'secretsalt' => $interop['secretSalt'],
    'auth.adminpassword' => $interop['adminPassword'],
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'technicalcontact_name' => 'samlbridge interop',
    'technicalcontact_email' => 'interop@example.invalid',
    'certdir' => $interop['dir'],
    'loggingdir' => $interop['dir'],
    'datadir' => $interop['dir'] . '/data',
    'tempdir' => $interop['dir'] . '/tmp',
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'logging.level' => SimpleSAML\Logger::INFO,
    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'showerrors' => true,
    'errorreporting' => false,
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'session.phpsession.savepath' => $interop['dir'] . '/sessions',
    'store.type' => 'SamlbridgeInterop\FileStore',
    'store.file.dir' => $interop['dir'] . '/store',
    'metadata.sources' => [
        ['type' => 'xml', 'file' => $interop['idpMetadataFile']],
    ],
    'trusted.url.domains' => ['127.0.0.1:' . $interop['port']],
    'module.enable' => ['core' => true, 'saml' => true, 'exampleauth' => false, 'admin' => false],
]);
