<?php
/*
 * Router for `php -S -t /usr/share/simplesamlphp/www`: /whoami.php is the
 * interop SP's protected page; everything else is SimpleSAMLphp's own www
 * directory, served as the built-in server would.
 */
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/whoami.php') {
    require __DIR__ . '/whoami.php';
    return true;
}
return false;
