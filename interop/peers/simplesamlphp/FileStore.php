<?php
/*
 * A SimpleSAMLphp data store in plain files, one per key, for the interop
 * SP. SimpleSAMLphp 1.19 ships memcache, redis and SQL stores; none of
 * their PHP extensions (memcache, redis, pdo_sqlite) is on these machines,
 * and without a store SimpleSAMLphp has no replay cache. This store gives
 * it one: saml2-acs.php records every assertion ID it consumed here
 * ('saml.AssertionReceived') and refuses an ID it has seen. Sessions live
 * here too, as they do with any store.
 */
namespace SamlbridgeInterop;

class FileStore extends \SimpleSAML\Store
{
    /** @var string */
    private $dir;

    public function __construct()
    {
        $config = \SimpleSAML\Configuration::getInstance();
        $this->dir = $config->getString('store.file.dir');
        if (!is_dir($this->dir) && !mkdir($this->dir, 0700, true) && !is_dir($this->dir)) {
            throw new \Exception('cannot create the store directory ' . $this->dir);
        }
    }

    private function path(string $type, string $key): string
    {
        return $this->dir . '/' . hash('sha256', $type . "\0" . $key);
    }

    public function get($type, $key)
    {
        $data = @file_get_contents($this->path($type, $key));
        if ($data === false) {
            return null;
        }
        $entry = unserialize($data);
        if (!is_array($entry)) {
            return null;
        }
        if ($entry['expire'] !== null && $entry['expire'] < time()) {
            $this->delete($type, $key);
            return null;
        }
        return $entry['value'];
    }

    public function set($type, $key, $value, $expire = null)
    {
        $path = $this->path($type, $key);
        $tmp = $path . '.' . bin2hex(random_bytes(6));
        $data = serialize(['expire' => $expire, 'value' => $value]);
        if (file_put_contents($tmp, $data) === false || !rename($tmp, $path)) {
            throw new \Exception('cannot write to the store directory ' . $this->dir);
        }
    }

    public function delete($type, $key)
    {
        @unlink($this->path($type, $key));
    }
}
