export type RedisErrorKind = 'oom' | 'timeout' | 'connection' | 'other';

/**
 * What kind of failure a Redis command had, for metrics and log levels. OOM is the one sysadmins page on:
 * under volatile-lru it means nothing volatile was left to evict, so Redis refuses writes.
 */
export function redisErrorKind(e: unknown): RedisErrorKind {
  const message = e instanceof Error ? e.message : String(e);
  if (message.startsWith('OOM ')) return 'oom';
  if (message.includes('timed out')) return 'timeout';
  if (
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|Stream isn't writeable|max retries per request|enableOfflineQueue/i.test(
      message,
    )
  )
    return 'connection';
  return 'other';
}
