/**
 * @module redis
 * What every folder that talks to Redis shares: Lua scripts run by EVALSHA, a bounded wait
 * for a connection to be ready.
 */
export { readyWithin } from './ready.ts';
export { redisScript, type RedisScript } from './script.ts';
