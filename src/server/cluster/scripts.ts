/**
 * The Lua scripts that keep the cluster's shared state consistent: each runs
 * atomically in Redis, so admission counts, roster changes and the removal
 * of a dead node's participants never interleave. Times come from Redis's
 * own clock (`TIME`), so node clocks may disagree.
 *
 * Key names follow {@link ClusterKeys}; the scripts that walk rooms build
 * them from the prefix, so the cluster needs one Redis server (or a primary
 * with replicas), not Redis Cluster.
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** Removes one member of node `node` from `room` (the JS key layout, rebuilt in Lua). */
const REMOVE_MEMBER = `local function remove_member(p, room, id, node)
  local members = p .. ':room:' .. room .. ':members'
  local roster = p .. ':room:' .. room .. ':roster'
  redis.call('HDEL', p .. ':node:' .. node .. ':members', id)
  if redis.call('HGET', members, id) ~= node then return 0 end
  redis.call('HDEL', members, id)
  if redis.call('HDEL', roster, id) == 1 then
    redis.call('SPUBLISH', p .. ':r:' .. room, 'J' .. cjson.encode({c = 'disabled', n = node, id = id}))
  end
  if redis.call('HLEN', members) == 0 then
    redis.call('SREM', p .. ':rooms', room)
    redis.call('DEL', roster)
  end
  return 1
end`;

/** One script: its Lua and how many of its arguments are keys. */
export interface ClusterScript {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/**
 * KEYS: room members, rooms, node members. ARGV: id, node, room,
 * maxParticipantsPerRoom, maxRooms. Returns 0 (reserved), 1 (room full), 2 (too many rooms).
 */
export const RESERVE: ClusterScript = {
  numberOfKeys: 3,
  lua: `if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local n = redis.call('HLEN', KEYS[1])
if n >= tonumber(ARGV[4]) then return 1 end
if n == 0 and redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return 0`,
};

/** No KEYS. ARGV: prefix, room, id, node. Returns 1 when the member was there. */
export const LEAVE: ClusterScript = {
  numberOfKeys: 0,
  lua: `${REMOVE_MEMBER}
return remove_member(ARGV[1], ARGV[2], ARGV[3], ARGV[4])`,
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

/**
 * KEYS: nodes. ARGV: prefix, node ('' = every node whose lease expired).
 * Removes the nodes' members everywhere, publishing `disabled` for each
 * enabled one, and returns the removed node ids.
 */
export const REAP: ClusterScript = {
  numberOfKeys: 1,
  lua: `${REMOVE_MEMBER}
local dead
if ARGV[2] ~= '' then
  dead = {ARGV[2]}
else
  ${NOW}
  dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
end
for _, node in ipairs(dead) do
  local key = ARGV[1] .. ':node:' .. node .. ':members'
  local entries = redis.call('HGETALL', key)
  for i = 1, #entries, 2 do remove_member(ARGV[1], entries[i + 1], entries[i], node) end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], node)
end
return dead`,
};

/** KEYS: nodes, rooms. ARGV: prefix. Returns nodes, rooms, participants, enabled. */
export const STATS: ClusterScript = {
  numberOfKeys: 2,
  lua: `local rooms = redis.call('SMEMBERS', KEYS[2])
local participants, enabled = 0, 0
for _, room in ipairs(rooms) do
  participants = participants + redis.call('HLEN', ARGV[1] .. ':room:' .. room .. ':members')
  enabled = enabled + redis.call('HLEN', ARGV[1] .. ':room:' .. room .. ':roster')
end
return {redis.call('ZCARD', KEYS[1]), #rooms, participants, enabled}`,
};

/** Every script, by the command name ioredis defines for it. */
export const CLUSTER_SCRIPTS = { rsReserve: RESERVE, rsLeave: LEAVE, rsAnnounce: ANNOUNCE, rsHeartbeat: HEARTBEAT, rsReap: REAP, rsStats: STATS } as const;

/** A script's command name. */
export type ClusterScriptName = keyof typeof CLUSTER_SCRIPTS;
