/**
 * Where the nats-servers' work goes during a measured window (issue 10,
 * session 7): each server's monitoring endpoint read before and after,
 * divided by the messages the bench counted in the window.
 *
 *   /varz     in/out messages and bytes of the whole server (clients and routes)
 *   /routez   messages and bytes crossing routes (Raft appends and forwarded core messages)
 *   /connz    each client connection (the Warren nodes, by name): what it sent and got
 *   /jsz      JetStream API calls (publishes are not API calls; purges and infos are) and,
 *             per stream, the last sequence: records written (batches, state, takeover)
 *
 * With WARREN_NATS_PROFILE=1 (nats-cluster.ts gives every server a prof_port)
 * and WARREN_BENCH_NATS_PROFILE_DIR, a Go CPU profile of each server over
 * the window is written there (`go tool pprof -top /usr/sbin/nats-server <file>`).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

interface Varz {
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
}
interface Routez {
  routes?: Array<{ in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number }>;
}
interface Connz {
  connections?: Array<{ name?: string; in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number }>;
}
interface Jsz {
  api?: { total: number };
  account_details?: Array<{
    stream_detail?: Array<{ name: string; cluster?: { leader?: string }; state: { last_seq: number } }>;
  }>;
}

export interface NatsSnapshot {
  varz: Varz[];
  routes: Varz[];
  /** Per server: Warren node name → its connection's counters on that server. */
  clients: Array<Record<string, Varz>>;
  api: number[];
  /** Stream name → last sequence (one server's view is enough: every replica has it). */
  lastSeq: Record<string, number>;
  leaders: Record<string, string>;
}

const get = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;
const zero = (): Varz => ({ in_msgs: 0, out_msgs: 0, in_bytes: 0, out_bytes: 0 });
const add = (into: Varz, from: Varz): Varz => {
  into.in_msgs += from.in_msgs;
  into.out_msgs += from.out_msgs;
  into.in_bytes += from.in_bytes;
  into.out_bytes += from.out_bytes;
  return into;
};

export async function snapshot(monitorUrls: readonly string[]): Promise<NatsSnapshot> {
  const out: NatsSnapshot = { varz: [], routes: [], clients: [], api: [], lastSeq: {}, leaders: {} };
  for (const base of monitorUrls) {
    const [varz, routez, connz, jsz] = await Promise.all([
      get<Varz>(`${base}/varz`),
      get<Routez>(`${base}/routez`),
      get<Connz>(`${base}/connz?limit=1024`),
      get<Jsz>(`${base}/jsz?streams=true`),
    ]);
    out.varz.push(varz);
    out.routes.push((routez.routes ?? []).reduce(add, zero()));
    const clients: Record<string, Varz> = {};
    for (const c of connz.connections ?? []) clients[c.name ?? "?"] = add(clients[c.name ?? "?"] ?? zero(), c);
    out.clients.push(clients);
    out.api.push(jsz.api?.total ?? 0);
    for (const account of jsz.account_details ?? [])
      for (const stream of account.stream_detail ?? []) {
        out.lastSeq[stream.name] = Math.max(out.lastSeq[stream.name] ?? 0, stream.state.last_seq);
        if (stream.cluster?.leader) out.leaders[stream.name] = stream.cluster.leader;
      }
  }
  return out;
}

const per = (value: number, messages: number): number => Number((value / Math.max(messages, 1)).toFixed(2));
const diff = (a: Varz, b: Varz): Varz => ({
  in_msgs: b.in_msgs - a.in_msgs,
  out_msgs: b.out_msgs - a.out_msgs,
  in_bytes: b.in_bytes - a.in_bytes,
  out_bytes: b.out_bytes - a.out_bytes,
});
const perMessage = (v: Varz, messages: number): Record<string, number> => ({
  inMsgs: per(v.in_msgs, messages),
  outMsgs: per(v.out_msgs, messages),
  inBytes: Math.round(v.in_bytes / Math.max(messages, 1)),
  outBytes: Math.round(v.out_bytes / Math.max(messages, 1)),
});

/** Per consumed (or confirmed) message of the window: server, route and client traffic; JetStream records. */
export function breakdown(before: NatsSnapshot, after: NatsSnapshot, messages: number): Record<string, unknown> {
  const servers = after.varz.map((v, i) => perMessage(diff(before.varz[i] ?? zero(), v), messages));
  const routes = after.routes.map((v, i) => perMessage(diff(before.routes[i] ?? zero(), v), messages));
  const clients = after.clients.map((byName, i) =>
    Object.fromEntries(
      Object.entries(byName)
        .filter(([name]) => name.startsWith("w"))
        .map(([name, v]) => [name, perMessage(diff(before.clients[i]?.[name] ?? zero(), v), messages)]),
    ),
  );
  let records = 0;
  const recordsByStream: Record<string, number> = {};
  for (const [stream, seq] of Object.entries(after.lastSeq)) {
    const n = seq - (before.lastSeq[stream] ?? 0);
    if (n <= 0) continue;
    records += n;
    recordsByStream[stream] = n;
  }
  return {
    messages,
    servers,
    routes,
    clients,
    jetStreamRecords: records,
    messagesPerRecord: per(messages, records),
    recordsByStream,
    apiCalls: after.api.reduce((t, n, i) => t + n - (before.api[i] ?? 0), 0),
    leaders: after.leaders,
  };
}

/** Go CPU profiles of every server over `seconds`, written to `dir` as <label>-n<i>.pprof. */
export async function profileServers(
  profileUrls: readonly string[],
  seconds: number,
  dir: string,
  label: string,
): Promise<void> {
  await Promise.all(
    profileUrls.map(async (base, i) => {
      const response = await fetch(`${base}/debug/pprof/profile?seconds=${seconds}`);
      await writeFile(join(dir, `${label}-n${i + 1}.pprof`), Buffer.from(await response.arrayBuffer()));
    }),
  );
}
