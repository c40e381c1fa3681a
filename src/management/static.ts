/**
 * Serves the web UI's files from the package's ui/ folder. Only the listed
 * files are served (no path from the request reaches the file system).
 */
import { readFile } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { packageRoot } from "../package-root.js";

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
  "/favicon.svg": { file: "favicon.svg", type: "image/svg+xml" },
  "/favicon.ico": { file: "favicon.svg", type: "image/svg+xml" },
};
for (const module of [
  "lib",
  "pages/features",
  "pages/chart",
  "pages/overview",
  "pages/queues",
  "pages/exchanges",
  "pages/connections",
  "pages/admin",
]) {
  FILES[`/${module}.js`] = { file: `${module}.js`, type: "text/javascript; charset=utf-8" };
}

/** Returns false when the path is not a UI file. */
export function serveUi(request: IncomingMessage, response: ServerResponse, pathname: string): boolean {
  const entry = FILES[pathname];
  if (!entry || (request.method !== "GET" && request.method !== "HEAD")) return false;
  // The callback form: node:fs/promises is one more module for every broker to load at start (issue 15 §1).
  readFile(new URL(`ui/${entry.file}`, packageRoot()), (error, body) => {
    if (error) {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: "Object Not Found", reason: "Not Found" }));
      return;
    }
    response.writeHead(200, {
      "content-type": entry.type,
      "content-length": String(body.length),
      "cache-control": "no-cache",
    });
    response.end(request.method === "HEAD" ? undefined : body);
  });
  return true;
}
