/** /api/feature-flags and /api/auth: what tools ask a RabbitMQ 3.10 node before anything else. */
import { ok } from "../http-util.js";
import type { Route } from "../router.js";

/**
 * RabbitMQ 3.10's stable feature flags, all enabled: Warren behaves as a node
 * on which every one of them is (implicit default bindings, quorum queue
 * declarations, user limits, vhost metadata, the management stats counters).
 */
const FEATURE_FLAGS: ReadonlyArray<readonly [name: string, desc: string, providedBy: string]> = [
  ["classic_mirrored_queue_version", "Support setting version for classic mirrored queues", "rabbit"],
  ["drop_unroutable_metric", "Count unroutable publishes to be dropped in stats", "rabbitmq_management_agent"],
  ["empty_basic_get_metric", "Count AMQP `basic.get` on empty queues in stats", "rabbitmq_management_agent"],
  ["implicit_default_bindings", "Default bindings are now implicit, instead of being stored in the database", "rabbit"],
  ["maintenance_mode_status", "Maintenance mode status", "rabbit"],
  ["quorum_queue", "Support queues of type `quorum`", "rabbit"],
  ["stream_queue", "Support queues of type `stream`", "rabbit"],
  ["user_limits", "Configure connection and channel limits for a user", "rabbit"],
  ["virtual_host_metadata", "Virtual host metadata (description, tags, etc)", "rabbit"],
];

export const runtimeInfoRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/feature-flags",
    level: "administrator",
    handle: () =>
      ok(
        FEATURE_FLAGS.map(([name, desc, providedBy]) => ({
          name,
          desc,
          doc_url: "",
          state: "enabled",
          stability: "stable",
          provided_by: providedBy,
        })),
      ),
  },
  // No OAuth 2 (UAA) here: the UI uses basic auth, as RabbitMQ without rabbitmq_auth_backend_oauth2.
  {
    method: "GET",
    path: "/api/auth",
    level: "management",
    public: true,
    handle: () => ok({ enable_uaa: false, uaa_client_id: "", uaa_location: "" }),
  },
];
