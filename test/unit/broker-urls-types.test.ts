import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { startBroker, type BrokerOptions, type PortsOption } from "../../src/index.js";

/**
 * startBroker types `urls` and `ports` by the ports asked for. The checks are
 * the build's: `tsc --strict` compiles this file only while an open
 * listener's URL is a plain string and an "off" one's is possibly undefined
 * (a @ts-expect-error that no longer errors fails the build).
 */
test("urls of listeners not turned off are strings under --strict; 'off' ones and TLS ones are optional", async () => {
  const broker = await startBroker({ ports: { mqtt: "off", stomp: 0 } });
  try {
    const amqpUrl: string = broker.urls.amqp;
    const stompPort: number = broker.ports.stomp;
    const httpUrl: string = broker.urls.http;
    // @ts-expect-error: MQTT was turned off, so its URL may be undefined
    const mqttUrl: string = broker.urls.mqtt;
    // @ts-expect-error: TLS listeners open only with `tls`
    const amqpsUrl: string = broker.urls.amqps;
    assert.equal(mqttUrl, undefined);
    assert.equal(amqpsUrl, undefined);
    assert.equal(typeof stompPort, "number");
    assert.match(httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const connection = await amqplib.connect(amqpUrl);
    await connection.close();
  } finally {
    await broker.stop();
  }
});

test("with no options every plain listener's URL is a string; with options of the wide type none is assumed", async () => {
  const plain = await startBroker();
  const chosen: PortsOption = { amqp: "off" };
  const options: BrokerOptions = { ports: chosen };
  const wide = await startBroker(options);
  try {
    const urls: string[] = [
      plain.urls.amqp,
      plain.urls.mqtt,
      plain.urls.stomp,
      plain.urls.http,
      plain.urls.webStomp,
      plain.urls.webMqtt,
    ];
    assert.ok(urls.every((url) => url.length > 0));
    // @ts-expect-error: a port of type PortSetting may be "off"
    const maybe: string = wide.urls.amqp;
    assert.equal(maybe, undefined);
  } finally {
    await Promise.all([plain.stop(), wide.stop()]);
  }
});
