// Aedes (the Node.js MQTT broker) on a loopback port, for bench/run-mqtt.sh:
//   node bench/aedes-server.mjs PORT
// Default in-memory persistence, no auth: Aedes as its README runs it.
import { createServer } from "node:net";
import { Aedes } from "aedes";

const port = Number(process.argv[2] ?? 1883);
const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
server.listen(port, "127.0.0.1", () => console.log(JSON.stringify({ msg: "aedes listening", port })));
const stop = () => server.close(() => broker.close(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
