/**
 * The Lua scripts of RecordCacheRepository. Every prefix comes from the record type (ARGV), never from the
 * script: a key's id is what follows the type's key prefix.
 *
 * APPLY_VERSIONS applies committed states only when they are newer than what Redis holds, so a slow writer
 * or a replayed outbox row can never put an older version back. Written documents are persistent keys (no
 * TTL): a newer version replaces a volatile key, and the same version already cached by a backfill is SET
 * again as a persistent key (backfills are not replicated, so a PERSIST would leave the replica without it).
 *
 * Under the same guard it keeps the type's unique index when it has one (products: `sku:{sku}` -> id), a
 * volatile key (derived data, never part of the persistent set). A change or delete turns the old value's
 * entry into an absence (`!0`, tombstone TTL) if it still names this record: answering "missing" from Redis,
 * instead of asking a MySQL reader that may not have replicated the change yet. Readers check the value in
 * the document anyway, so an entry that is stale for any other reason costs a MySQL read, never a wrong answer.
 *
 * The records it changed go to the invalidation stream in the same script, as cache tags (the type's tag of
 * each id, and the index tag of each value they now carry), so "Redis has the new version" and "every node
 * will purge it" happen together or not at all. A re-applied state (the relay replaying a row the request
 * already applied) changes nothing and publishes nothing. `ids` and `skus` stay in the entry for purgers of
 * the previous release during a rolling deploy.
 * KEYS: the record keys, then the stream. ARGV: version/doc pairs, then tombstone TTL, index TTL, stream
 * MAXLEN, node, source, mode, key prefix, tag prefix, index field, index key prefix, index tag prefix, type.
 * Returns {applied, stream entry id or false}.
 *
 * A type may derive keys from its records in the same script (stock: availability per market), so a
 * derived key never lags the record it was derived from: `applyScript(derive)` takes Lua that defines
 * `derive(ids, full, at)`, called with the changed ids before the XADD; its arguments follow the type's
 * (ARGV from base + 13 on).
 *
 * Mode `full` is the normal write. Mode `oom` runs when Redis refused the normal one because memory is full
 * and nothing volatile is left (`underOom`): it replaces keys that exist (about the same memory) and
 * creates none, so no older version survives in Redis and the ids are still published for the edge purgers;
 * an id Redis does not hold is read from MySQL until memory is back (a backfill is refused under OOM too).
 */
export const applyScript = (derive = ''): string => `
${derive}
local n = #KEYS - 1
local base = 2 * n
local ttl = tonumber(ARGV[base + 1])
local indexTtl = tonumber(ARGV[base + 2]) or 0
local full = ARGV[base + 6] ~= 'oom'
local keyPrefixLen = #ARGV[base + 7]
local tagPrefix = ARGV[base + 8]
local indexField = ARGV[base + 9]
local indexPrefix = ARGV[base + 10]
local indexTagPrefix = ARGV[base + 11]
local applied = 0
local changed = {}
local tags = {}
local values = {}
local function indexOf(doc)
  if indexField == '' or not doc or doc == '' or string.byte(doc, 1) == 33 then return nil end
  return string.match(string.sub(doc, 1, 160), '"' .. indexField .. '":"([^"]*)"')
end
for i = 1, n do
  local v = tonumber(ARGV[2 * i - 1])
  local doc = ARGV[2 * i]
  local cur = redis.call('GET', KEYS[i])
  local cv = -1
  if cur then
    if string.byte(cur, 1) == 33 then
      cv = tonumber(string.sub(cur, 2)) or -1
    else
      cv = tonumber(string.match(string.sub(cur, 1, 64), '"version":(%d+)')) or -1
    end
  end
  local id = string.sub(KEYS[i], keyPrefixLen + 1)
  if v > cv and not full and not cur then
    changed[#changed + 1] = id
  elseif v > cv then
    local old = indexOf(cur)
    local new = indexOf(doc)
    if old and old ~= new and redis.call('GET', indexPrefix .. old) == id then
      redis.call('SET', indexPrefix .. old, '!0', 'EX', ttl)
    end
    if new then
      if indexTtl > 0 and full then redis.call('SET', indexPrefix .. new, id, 'EX', indexTtl) end
      values[#values + 1] = new
      tags[#tags + 1] = indexTagPrefix .. new
    end
    if doc == '' then
      redis.call('SET', KEYS[i], '!' .. v, 'EX', ttl)
    else
      redis.call('SET', KEYS[i], doc)
    end
    applied = applied + 1
    changed[#changed + 1] = id
  elseif v == cv and doc ~= '' and redis.call('PTTL', KEYS[i]) >= 0 then
    -- A backfill read the new version from MySQL before anyone applied it: an edge cache may still hold
    -- the version before, so this counts as a change too. SET, not PERSIST: backfills are not replicated
    -- (BACKFILL below), so the replica and the AOF get the document from this SET.
    redis.call('SET', KEYS[i], doc)
    applied = applied + 1
    changed[#changed + 1] = id
  end
end
if #changed == 0 then return {applied, false} end
${derive ? 'derive(changed, full, base + 13)' : ''}
for i = 1, #changed do tags[#tags + 1] = tagPrefix .. changed[i] end
local entry = redis.call('XADD', KEYS[n + 1], 'MAXLEN', '~', ARGV[base + 3], '*',
  'ids', table.concat(changed, ' '), 'skus', table.concat(values, ' '), 'node', ARGV[base + 4],
  'by', ARGV[base + 5], 'type', ARGV[base + 12], 'tags', table.concat(tags, ' '))
return {applied, entry}
`;

export const APPLY_VERSIONS = applyScript();

/** The same script, allowed to run while Redis is out of memory (Redis 7 script flags); see mode `oom`. */
export const underOom = (script: string): string => '#!lua flags=allow-oom\n' + script;

/**
 * SET NX EX for each key: a write that landed meanwhile always wins over a backfill. The entries are a cache
 * of MySQL, not data: they go neither to the AOF nor to the replica (REPL_NONE). After a restart or a
 * failover they are simply missing and the next cold read loads them again; in exchange a cold read costs
 * Redis no AOF write and the replica nothing (npm run bench, cold-100). Their expiry still sends a DEL to
 * both, a no-op there.
 */
export const BACKFILL = `
redis.set_repl(redis.REPL_NONE)
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'EX', ARGV[2 * i], 'NX')
end
return #KEYS
`;
