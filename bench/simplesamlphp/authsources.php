<?php
/*
 * The benchmark IdP's only authentication source: a static user, logged
 * in without any page. Its attributes come from bench.json.
 */
require_once __DIR__ . '/settings.php';

$config = [
    'bench-static' => array_merge(['exampleauth:StaticSource'], samlbench_settings()['attributes']),
];
