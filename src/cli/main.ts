#!/usr/bin/env node
/**
 * The `warren` command (and `npm start`): load the config, start the broker,
 * stop it cleanly on SIGINT/SIGTERM.
 *
 * Exit codes: 0 after a clean stop or --help/--version; 1 when the broker
 * cannot start or stop. Expected failures (WarrenError: a taken port, a bad
 * flag) print one line on stderr, no stack; anything else is a bug and
 * prints its stack.
 */
import type { BrokerOptions, RunningBroker } from "../index.js";
import { WarrenError } from "../errors.js";
import type { ClusterConfig, TlsConfig, WarrenConfig } from "../config/defaults.js";
import type { Logger } from "../log.js";
import { packageVersion } from "../version.js";

function fail(err: unknown): never {
  if (err instanceof WarrenError) {
    process.stderr.write(`warren: ${err.message.replace(/\s*\n\s*/g, " ")}\n`);
  } else {
    process.stderr.write(`warren: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
}

async function start(config: WarrenConfig, logger: Logger): Promise<RunningBroker> {
  // Loaded here, not at the top: `warren ctl` needs none of the broker, and importing it took seconds on a loaded machine.
  const { startBroker } = await import("../index.js");
  return startBroker({
    host: config.host,
    ports: { ...config.ports },
    storage: { dir: config.dataDir, queueMemoryMessages: config.queueMemoryMessages },
    alarms: { memoryHighWatermark: config.vmMemoryHighWatermark, diskFreeLimit: config.diskFreeLimit },
    logger,
    limits: { ...config.limits },
    mqtt: { ...config.mqtt },
    ...(config.maxConnections === null ? {} : { maxConnections: config.maxConnections }),
    management: { metricsAuth: config.metricsAuth },
    ...(config.webStompAllowedOrigins === null
      ? {}
      : { stomp: { allowedOrigins: [...config.webStompAllowedOrigins] } }),
    ...tlsOption(config.tls),
    ...clusterOption(config.cluster),
  });
}

/** --cluster-nats and its companions as startBroker takes them; nothing without --cluster-nats. */
function clusterOption(cluster: ClusterConfig): Pick<BrokerOptions, "cluster"> {
  if (cluster.nats === null) return {};
  return {
    cluster: {
      nats: cluster.nats,
      replicas: cluster.replicas,
      ...(cluster.consumerLookahead ? { consumerLookahead: true } : {}),
      ...(cluster.nodeName === null ? {} : { nodeName: cluster.nodeName }),
      ...(cluster.user === null ? {} : { user: cluster.user }),
      ...(cluster.password === null ? {} : { password: cluster.password }),
      ...(cluster.token === null ? {} : { token: cluster.token }),
      ...(cluster.tlsCa === null ? {} : { tlsCa: cluster.tlsCa }),
    },
  };
}

/** The TLS files as startBroker takes them (paths, read again on reload); nothing without --tls-cert. */
function tlsOption(tls: TlsConfig): Pick<BrokerOptions, "tls"> {
  if (tls.certFile === null || tls.keyFile === null) return {};
  return {
    tls: {
      cert: tls.certFile,
      key: tls.keyFile,
      ...(tls.caFile !== null ? { ca: tls.caFile } : {}),
      ...(tls.keyPassphrase !== null ? { keyPassphrase: tls.keyPassphrase } : {}),
      ...(tls.ciphers !== null ? { ciphers: tls.ciphers } : {}),
      verifyPeer: tls.verifyPeer,
      failIfNoPeerCert: tls.failIfNoPeerCert,
      certLogin: tls.certLogin,
    },
  };
}

/** SIGHUP reloads the TLS certificate files (as `warren ctl reload_certificates`); open connections stay. */
function handleReload(broker: RunningBroker, logger: Logger): void {
  process.on("SIGHUP", () => {
    try {
      broker.reloadCertificates();
    } catch (err) {
      logger.error({ err }, "TLS certificates not reloaded; the old ones stay in use");
    }
  });
}

/**
 * First signal: stop gracefully (the broker closes client connections with
 * AMQP 320 CONNECTION_FORCED). Second signal: the operator insists; leave now.
 */
function handleSignals(broker: RunningBroker, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal, exiting without a clean stop");
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    logger.info({ signal }, "stopping");
    broker.stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "error while stopping");
        fail(err);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

async function main(): Promise<void> {
  // `warren ctl <verb>`: rabbitmqctl's verbs over the management API (src/cli/ctl/).
  if (process.argv[2] === "ctl") {
    const { runCtl } = await import("./ctl/main.js");
    const io = { out: (text: string) => process.stdout.write(text), err: (text: string) => process.stderr.write(text) };
    process.exitCode = await runCtl(process.argv.slice(3), process.env, io);
    return;
  }
  const [{ loadConfig, usage }, { createLogger }] = await Promise.all([
    import("../config/load.js"),
    import("../log.js"),
  ]);
  const config = loadConfig(process.argv.slice(2), process.env);
  if (config.help) {
    process.stdout.write(usage());
    return;
  }
  if (config.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat ?? (process.stdout.isTTY ? "text" : "json"),
    ...(config.logFile === null ? {} : { file: { path: config.logFile } }),
  });
  const broker = await start(config, logger);
  handleSignals(broker, logger);
  handleReload(broker, logger);
  logger.info({ ports: broker.ports, urls: broker.urls, dataDir: config.dataDir }, "listening");
}

main().catch(fail);
