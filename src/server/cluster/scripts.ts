/**
 * The Lua scripts that keep the cluster's shared state consistent. Each one
 * touches the keys of one hash slot only (one room's, or the cluster-wide
 * node and room sets), so the same scripts run on one Redis server and on
 * Redis Cluster; steps that span slots (a member's room and its node's
 * index, a new room and the room count) are ordered by the directory so that
 * a node dying between two of them leaves nothing the reaper cannot clean.
 * Times come from Redis's own clock (`TIME`), so node clocks may disagree.
 * Key names follow {@link ClusterKeys}.
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** One script: its Lua and how many of its arguments are keys. */
export interface ClusterScript {
  /** Absent when the caller passes the count first (a script over any number of sessions). */
  readonly numberOfKeys?: number;
  readonly lua: string;
}

/** {@link RESERVE}'s answers. */
export const Reserved = { Joined: 0, RoomFull: 1, OpenedRoom: 2 } as const;

/**
 * KEYS: room members. ARGV: id, node, maxParticipantsPerRoom.
 * Returns {@link Reserved}: joined, room full, or joined a room that was empty.
 */
export const RESERVE: ClusterScript = {
  numberOfKeys: 1,
  lua: `if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local n = redis.call('HLEN', KEYS[1])
if n >= tonumber(ARGV[3]) then return 1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if n == 0 then return 2 end
return 0`,
};

/** KEYS: rooms. ARGV: room, maxRooms. Counts a room that got its first member; 1 when there are too many rooms. */
export const OPEN_ROOM: ClusterScript = {
  numberOfKeys: 1,
  lua: `if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 1 end
redis.call('SADD', KEYS[1], ARGV[1])
return 0`,
};

/** {@link LEAVE}'s answers. */
export const Left = { NotThere: 0, Left: 1, EmptiedRoom: 2 } as const;

/**
 * KEYS: room members, roster. ARGV: id, node, room channel.
 * Removes the member if `node` holds it, publishing `disabled` when it was
 * enabled. Returns {@link Left}.
 */
export const LEAVE: ClusterScript = {
  numberOfKeys: 2,
  lua: `if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HDEL', KEYS[2], ARGV[1]) == 1 then
  redis.call('SPUBLISH', ARGV[3], 'J' .. cjson.encode({c = 'disabled', n = ARGV[2], id = ARGV[1]}))
end
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  return 2
end
return 1`,
};

/**
 * KEYS: roster. ARGV: change, id, record JSON, channel, event payload.
 * Records the change in the roster and publishes the event.
 */
export const ANNOUNCE: ClusterScript = {
  numberOfKeys: 1,
  lua: `if ARGV[1] == 'disabled' then
  redis.call('HDEL', KEYS[1], ARGV[2])
elseif ARGV[1] == 'enabled' or redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
end
redis.call('SPUBLISH', ARGV[4], ARGV[5])
return 1`,
};

/** KEYS: nodes. ARGV: node, leaseMs. Returns 1 when the lease was new (first, or lost). */
export const HEARTBEAT: ClusterScript = {
  numberOfKeys: 1,
  lua: `${NOW}
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])`,
};

/** KEYS: nodes. Returns the nodes whose lease ran out (they stay listed until reaped). */
export const EXPIRED: ClusterScript = {
  numberOfKeys: 1,
  lua: `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)`,
};

/**
 * KEYS: the room's relay stream. ARGV: channel, payload, keep (ms).
 * Appends a relay to resumable participants to the stream (entries older
 * than `keep` go, approximately) and publishes it behind its entry id as an
 * `S` bus message. Returns the number of subscribers that got it.
 */
export const RELAY_STREAMED: ClusterScript = {
  numberOfKeys: 1,
  lua: `${NOW}
local id = redis.call('XADD', KEYS[1], 'MINID', '~', string.format('%d', now - tonumber(ARGV[3])), '*', 'c', ARGV[1], 'p', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('SPUBLISH', ARGV[1], 'S' .. struct.pack('>I4', string.len(id)) .. id .. ARGV[2])`,
};

/**
 * KEYS: session meta, session journal, the room's relay stream. ARGV: owner
 * node, participant id, name, role, attributes JSON, ttl (ms, 0 for none).
 * Records a new resumable session; its relay cursor starts at the stream's
 * last entry (what was relayed before it joined is not its).
 */
export const JOURNAL_OPEN: ClusterScript = {
  numberOfKeys: 3,
  lua: `redis.call('DEL', KEYS[2])
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
local cursor = '0-0'
if #last > 0 then cursor = last[1][1] end
redis.call('HSET', KEYS[1], 'o', ARGV[1], 'i', ARGV[2], 'n', ARGV[3], 'r', ARGV[4], 'a', ARGV[5], 's', '0', 'q', '-1', 'c', cursor)
if tonumber(ARGV[6]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
return 1`,
};

/**
 * KEYS: session meta and session journal of each session (on Redis
 * Cluster all of one room, so one slot). ARGV: owner node, ttl (ms, 0 for none), then for each
 * session: first sequence, last sequence (0 when no messages), frames (a bus
 * batch), last request id, relay cursor ('' unchanged), acknowledged count
 * (0 none), attributes JSON ('' unchanged).
 * Appends one turn of each session's messages as one entry whose id is the
 * last sequence (so `MINID` trims what was acknowledged), and its counters.
 * Answers one result per session: 1 written, 0 another node took the
 * session over (this writer is fenced off), -1 the session's hash is gone
 * (expired, or never written: Redis was away).
 */
export const JOURNAL: ClusterScript = {
  lua: `local results = {}
local ttl = tonumber(ARGV[2])
for s = 1, #KEYS / 2 do
  local meta, journal, a = KEYS[2 * s - 1], KEYS[2 * s], 2 + 7 * (s - 1)
  local owner = redis.call('HGET', meta, 'o')
  if not owner then
    results[s] = -1
  elseif owner ~= ARGV[1] then
    results[s] = 0
  else
    if ARGV[a + 2] ~= '0' then
      redis.call('XADD', journal, ARGV[a + 2] .. '-1', 'f', ARGV[a + 1], 'p', ARGV[a + 3])
      redis.call('HSET', meta, 's', ARGV[a + 2])
    end
    redis.call('HSET', meta, 'q', ARGV[a + 4])
    if ARGV[a + 5] ~= '' then redis.call('HSET', meta, 'c', ARGV[a + 5]) end
    if ARGV[a + 7] ~= '' then redis.call('HSET', meta, 'a', ARGV[a + 7]) end
    if ARGV[a + 6] ~= '0' then redis.call('XTRIM', journal, 'MINID', ARGV[a + 6] .. '-2') end
    if ttl > 0 then
      redis.call('PEXPIRE', meta, ttl)
      redis.call('PEXPIRE', journal, ttl)
    end
    results[s] = 1
  end
end
return results`,
};

/**
 * KEYS: session meta, session journal, the room's relay stream, room
 * members. ARGV: new owner node, the client's received count, its token's
 * name and role.
 * Takes a resumable session over from its node (which died): checks that
 * the room still lists it under its node and that every message after
 * `received` is held, then makes `node` the owner (fencing the old one
 * off), lists the member under it, and returns what the session needs:
 * `{'ok', meta (flat), journal entries after received, relay entries after
 * the session's cursor, the stream's last id}`; or `{reason}`: u unknown,
 * x expired (its node's members were removed), m identity mismatch, b bad
 * count, g gap.
 */
export const TAKE_OVER: ClusterScript = {
  numberOfKeys: 4,
  lua: `local m = redis.call('HGETALL', KEYS[1])
if #m == 0 then return {'u'} end
local meta = {}
for i = 1, #m, 2 do meta[m[i]] = m[i + 1] end
if meta.n ~= ARGV[3] or meta.r ~= ARGV[4] then return {'m'} end
if redis.call('HGET', KEYS[4], meta.i) ~= meta.o then return {'x'} end
local received = tonumber(ARGV[2])
local sent = tonumber(meta.s)
if received > sent then return {'b'} end
local entries = redis.call('XRANGE', KEYS[2], string.format('%d', received + 1), '+')
if received < sent and (#entries == 0 or tonumber(entries[1][2][2]) > received + 1) then return {'g'} end
local relayed = redis.call('XRANGE', KEYS[3], '(' .. meta.c, '+')
local last = meta.c
if #relayed > 0 then last = relayed[#relayed][1] end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'o', ARGV[1], 's', ARGV[2], 'c', last)
redis.call('HSET', KEYS[4], meta.i, ARGV[1])
return {'ok', m, entries, relayed, last}`,
};

/** KEYS: session meta, session journal. ARGV: owner node. Removes a session's keys, unless another node owns it now. */
export const JOURNAL_END: ClusterScript = {
  numberOfKeys: 2,
  lua: `if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1`,
};

/** Every script, by the command name ioredis defines for it. */
export const CLUSTER_SCRIPTS = {
  rsReserve: RESERVE,
  rsOpenRoom: OPEN_ROOM,
  rsLeave: LEAVE,
  rsAnnounce: ANNOUNCE,
  rsHeartbeat: HEARTBEAT,
  rsExpired: EXPIRED,
  rsRelayStreamed: RELAY_STREAMED,
  rsJournalOpen: JOURNAL_OPEN,
  rsJournal: JOURNAL,
  rsJournalEnd: JOURNAL_END,
  rsTakeOver: TAKE_OVER,
} as const;

/** A script's command name. */
export type ClusterScriptName = keyof typeof CLUSTER_SCRIPTS;
