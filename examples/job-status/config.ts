/**
 * The job service's settings, from the environment with the defaults the
 * README promises: a Warren on localhost, a Redis on localhost, port 3000.
 */
export interface JobServiceConfig {
  amqpUrl: string;
  redisUrl: string;
  /** HTTP port of the server; 0 = ephemeral. */
  port: number;
  /** How long the simulated work of one job takes, unless the job asks for another time. */
  workDelayMs: number;
  /** Retries after the first attempt before a job is dead-lettered and marked failed. */
  maxRetries: number;
  /** How long a failed job waits in the retry queue (its x-message-ttl) before it is tried again. */
  retryDelayMs: number;
  /** Status keys in Redis expire this long after their last change. */
  statusTtlSeconds: number;
}

export const DEFAULT_CONFIG: JobServiceConfig = {
  amqpUrl: "amqp://guest:guest@127.0.0.1:5672",
  redisUrl: "redis://127.0.0.1:6379",
  port: 3000,
  workDelayMs: 200,
  maxRetries: 3,
  retryDelayMs: 1000,
  statusTtlSeconds: 24 * 3600,
};

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): JobServiceConfig {
  return {
    amqpUrl: env.AMQP_URL || DEFAULT_CONFIG.amqpUrl,
    redisUrl: env.REDIS_URL || DEFAULT_CONFIG.redisUrl,
    port: whole(env, "PORT", DEFAULT_CONFIG.port),
    workDelayMs: whole(env, "WORK_DELAY_MS", DEFAULT_CONFIG.workDelayMs),
    maxRetries: whole(env, "MAX_RETRIES", DEFAULT_CONFIG.maxRetries),
    retryDelayMs: whole(env, "RETRY_DELAY_MS", DEFAULT_CONFIG.retryDelayMs),
    statusTtlSeconds: whole(env, "STATUS_TTL_SECONDS", DEFAULT_CONFIG.statusTtlSeconds),
  };
}

/** The settings as environment variables, for starting a worker process with the same ones. */
export function configToEnv(config: JobServiceConfig): Record<string, string> {
  return {
    AMQP_URL: config.amqpUrl,
    REDIS_URL: config.redisUrl,
    PORT: String(config.port),
    WORK_DELAY_MS: String(config.workDelayMs),
    MAX_RETRIES: String(config.maxRetries),
    RETRY_DELAY_MS: String(config.retryDelayMs),
    STATUS_TTL_SECONDS: String(config.statusTtlSeconds),
  };
}

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number >= 0, not ${JSON.stringify(text)}`);
  return value;
}
