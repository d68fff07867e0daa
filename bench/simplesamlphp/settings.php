<?php
/*
 * The benchmark run's settings, shared by config.php, authsources.php and
 * the metadata files: samlbench writes bench.json next to this file when
 * it starts the IdP (ports, directories, salt, entity IDs, the SP's ACS
 * and certificate, the static user's attributes). Decoded once per
 * request.
 */
if (!function_exists('samlbench_settings')) {
    function samlbench_settings(): array
    {
        static $settings = null;
        if ($settings === null) {
            $settings = json_decode(
                file_get_contents(__DIR__ . '/bench.json'),
                true,
                16,
                JSON_THROW_ON_ERROR
            );
        }
        return $settings;
    }
}
