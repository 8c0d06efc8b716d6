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
  readonly numberOfKeys: number;
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

/** Every script, by the command name ioredis defines for it. */
export const CLUSTER_SCRIPTS = {
  rsReserve: RESERVE,
  rsOpenRoom: OPEN_ROOM,
  rsLeave: LEAVE,
  rsAnnounce: ANNOUNCE,
  rsHeartbeat: HEARTBEAT,
  rsExpired: EXPIRED,
} as const;

/** A script's command name. */
export type ClusterScriptName = keyof typeof CLUSTER_SCRIPTS;
