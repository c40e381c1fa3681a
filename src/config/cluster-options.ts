/** The cluster flags (issue 10), one row each as in options.ts. */
import { DEFAULTS, type ClusterConfig, type WarrenConfig } from "./defaults.js";
import type { OptionSpec } from "./options.js";

type TextKey = "user" | "password" | "token" | "tlsCa" | "nodeName";

/** nats://host:port[,nats://…]; a bare host:port is what nats.js also accepts. */
const parseUrls = (raw: string): string[] | undefined => {
  const urls = raw
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url !== "");
  return urls.length === 0 || urls.some((url) => /\s/.test(url)) ? undefined : urls;
};

function row(
  flagName: string,
  arg: string,
  help: string,
  defaultText: string,
  expected: string,
  apply: (cluster: ClusterConfig, raw: string) => boolean,
): OptionSpec {
  return {
    flag: `--${flagName}`,
    env: `WARREN_${flagName.toUpperCase().replaceAll("-", "_")}`,
    arg,
    help,
    defaultText,
    expected,
    apply: (config: WarrenConfig, raw: string) => apply(config.cluster, raw),
  };
}

const text =
  (key: TextKey) =>
  (cluster: ClusterConfig, raw: string): boolean => {
    if (raw.trim() === "") return false;
    cluster[key] = raw;
    return true;
  };

export const CLUSTER_OPTIONS: readonly OptionSpec[] = [
  row(
    "cluster-nats",
    "<urls>",
    "comma-separated NATS URLs (JetStream on): the node joins the Warren cluster kept there",
    "none (a single node)",
    "comma-separated URLs such as nats://n1:4222",
    (cluster, raw) => {
      const urls = parseUrls(raw);
      if (urls === undefined) return false;
      cluster.nats = urls;
      return true;
    },
  ),
  row("node-name", "<name>", "this node's name in the cluster", "warren@<hostname>", "a node name", text("nodeName")),
  row("cluster-nats-user", "<user>", "user for the NATS servers", "none", "a user name", text("user")),
  row("cluster-nats-password", "<password>", "password for the NATS servers", "none", "a password", text("password")),
  row("cluster-nats-token", "<token>", "token for the NATS servers", "none", "a token", text("token")),
  row(
    "cluster-nats-tls-ca",
    "<file>",
    "PEM CA of the NATS servers' certificates (TLS to NATS)",
    "none",
    "a file path",
    text("tlsCa"),
  ),
  row(
    "cluster-replicas",
    "<count>",
    "JetStream replicas of the cluster's state (1 for a single NATS server)",
    String(DEFAULTS.clusterReplicas),
    "an integer from 1 to 5",
    (cluster, raw) => {
      if (!/^[1-5]$/.test(raw)) return false;
      cluster.replicas = Number(raw);
      return true;
    },
  ),
  row(
    "cluster-consumer-lookahead",
    "<on|off>",
    "send a consumer on another node than its queue's owner one prefetch more than it may hold (faster; " +
      "then unacked counts, requeue order and sharing with other consumers differ from RabbitMQ's)",
    "off",
    "on or off",
    (cluster, raw) => {
      if (raw !== "on" && raw !== "off") return false;
      cluster.consumerLookahead = raw === "on";
      return true;
    },
  ),
];
