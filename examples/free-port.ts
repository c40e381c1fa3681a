import { createServer } from "node:net";

/**
 * A loopback TCP port that was free a moment ago, for programs that cannot
 * take port 0 themselves (redis-server) or must come back on the same port.
 */
export function freePort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
