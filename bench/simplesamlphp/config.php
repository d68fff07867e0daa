<?php
/*
 * SimpleSAMLphp 1.19 as the SAML 2.0 IdP of samlbridge's side-by-side
 * benchmark. Debian's own /etc/simplesamlphp/config.php gives the
 * defaults, as on a stock Debian install; this file changes only what the
 * benchmark needs: the run's base URL, salt and directories (all in the
 * run's directory, from bench.json), the IdP role, quiet logging to a
 * file, no statistics or IdP-wide filters, and plain-http cookies.
 */
require '/etc/simplesamlphp/config.php';
require_once __DIR__ . '/settings.php';

$bench = samlbench_settings();

$config = array_merge($config, [
    'baseurlpath' => $bench['baseURL'],
    'secretsalt' => $bench['secretSalt'],
    'auth.adminpassword' => $bench['adminPassword'],
    'admin.protectindexpage' => true,
    // The load generator fetches the IdP's metadata without logging in.
    'admin.protectmetadata' => false,
    'admin.checkforupdates' => false,
    'technicalcontact_name' => 'samlbridge benchmark',
    'technicalcontact_email' => 'bench@example.invalid',

    'certdir' => $bench['dir'],
    'loggingdir' => $bench['dir'] . '/logs',
    'datadir' => $bench['dir'] . '/data',
    'tempdir' => $bench['dir'] . '/tmp',
    'metadatadir' => __DIR__ . '/metadata',
    'metadata.sources' => [['type' => 'flatfile']],

    // Logging must not dominate the benchmark: warnings and errors only,
    // to a file; no statistics (Debian's default sends them to the log
    // and to /var/log/stats).
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'logging.level' => SimpleSAML\Logger::WARNING,
    'statistics.out' => [],
    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'showerrors' => true,
    'errorreporting' => false,
    'production' => true,
    // Debian's default UI: the auto-POST form is a plain PHP template
    // (templates/post.php), compiled once by OPcache; no Twig.
    'usenewui' => false,

    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'enable.adfs-idp' => false,
    'module.enable' => ['core' => true, 'saml' => true, 'exampleauth' => true, 'admin' => false],
    // No IdP-wide filters: Debian's defaults (LanguageAdaptor,
    // StatisticsWithAttribute, AttributeLimit) are not part of the work
    // compared. The persistent NameID filter is in saml20-idp-hosted.php.
    'authproc.idp' => [],

    // Sessions: Debian's default store, PHP's own file sessions, in the
    // run's directory.
    'store.type' => 'phpsession',
    'session.phpsession.savepath' => $bench['dir'] . '/sessions',
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'language.cookie.secure' => false,
    'language.cookie.samesite' => null,
    'trusted.url.domains' => ['127.0.0.1:' . $bench['port']],
]);
