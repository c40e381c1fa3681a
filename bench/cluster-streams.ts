/**
 * Streams in a cluster (docs/cluster.md "Streams"), measured: N messages of
 * 1 KiB published with confirms over the stream protocol (rabbitmq-stream-js-client,
 * 500 in flight) on node A, then the time until node B's local replica
 * holds them all; beside one node (streams on disk) in the same run,
 * alternating, `rounds` rounds. Nodes run in this process; the NATS
 * servers are children (1 server at R1, or 3 at R3).
 *
 *   node dist/bench/cluster-streams.js [messages=20000] [rounds=3] [natsServers=3]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type Client } from "rabbitmq-stream-js-client";
import { startBroker, type RunningBroker } from "../src/index.js";
import { silentLogger } from "../src/log.js";
import { startNatsCluster } from "../test/helpers/nats-cluster.js";

const [countText = "20000", roundsText = "3", serversText = "3"] = process.argv.slice(2);
const count = Number(countText);
const rounds = Number(roundsText);
const servers = serversText === "1" ? 1 : 3;
const WINDOW = Number(process.env["WINDOW"] ?? 500);
const body = Buffer.alloc(1024, 120);

const clientOf = (broker: RunningBroker): Promise<Client> =>
  connect({
    hostname: "127.0.0.1",
    port: broker.ports.stream as number,
    username: "guest",
    password: "guest",
    vhost: "/",
    heartbeat: 0,
  });

/** Publishes `count` messages with at most 500 unconfirmed; resolves with the seconds it took. */
async function publish(client: Client, stream: string): Promise<number> {
  const publisher = await client.declarePublisher({ stream });
  let confirmed = 0;
  let sent = 0;
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    publisher.on("publish_confirm", (error, ids) => {
      if (error !== null) return reject(new Error(`publish error ${error}`));
      confirmed += ids.length;
      if (confirmed >= count) resolve();
      else void pump();
    });
    const pump = async (): Promise<void> => {
      while (sent < count && sent - confirmed < WINDOW) {
        sent++;
        await publisher.send(body);
      }
      await publisher.flush();
    };
    void pump();
  });
  await publisher.close();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const countOn = (broker: RunningBroker, stream: string): number =>
  broker.core.vhosts.get("/")?.queues.get(stream)?.messageCount ?? 0;

async function untilCount(broker: RunningBroker, stream: string): Promise<void> {
  while (countOn(broker, stream) < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function single(round: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "warren-bench-streams-"));
  const broker = await startBroker({ logger: silentLogger(), storage: { dir }, ports: { stream: 0 } });
  const client = await clientOf(broker);
  const stream = `single-${round}`;
  await client.createStream({ stream, arguments: {} });
  const seconds = await publish(client, stream);
  await client.close();
  await broker.stop();
  await rm(dir, { recursive: true, force: true });
  return seconds;
}

async function cluster(round: number): Promise<{ publish: number; replicated: number }> {
  const nats = await startNatsCluster(servers);
  const nodes: RunningBroker[] = [];
  for (const name of ["a", "b"])
    nodes.push(
      await startBroker({
        logger: silentLogger(),
        ports: { stream: 0 },
        cluster: { nats: nats.urls, nodeName: `bench@${name}`, replicas: servers },
      }),
    );
  const [a, b] = nodes as [RunningBroker, RunningBroker];
  const client = await clientOf(a);
  const stream = `clustered-${round}`;
  await client.createStream({ stream, arguments: {} });
  const started = process.hrtime.bigint();
  const seconds = await publish(client, stream);
  await untilCount(b, stream);
  const replicated = Number(process.hrtime.bigint() - started) / 1e9;
  await client.close();
  await b.stop();
  await a.stop();
  await nats.stop();
  return { publish: seconds, replicated };
}

const rate = (seconds: number): string => `${Math.round(count / seconds)} msg/s`;
for (let round = 1; round <= rounds; round++) {
  const load = loadavg()[0]?.toFixed(1);
  const one = await single(round);
  const many = await cluster(round);
  console.log(
    `round ${round} (load ${load}): one node ${rate(one)}; cluster (${servers} NATS, R${servers}) publish+confirm ${rate(many.publish)}, on B ${rate(many.replicated)}`,
  );
}
