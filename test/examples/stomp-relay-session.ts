import { RawStompClient, type ReceivedFrame } from "../e2e/stomp/raw-client.js";

/**
 * One TCP session of Spring Framework's StompBrokerRelayMessageHandler,
 * byte for byte as it talks to a broker (spring-messaging 6.x):
 *
 * - frames as StompEncoder writes them: the command, the native headers in
 *   the order they were set, `content-length` appended last on SEND (any
 *   given one is dropped), a blank line, the body, NUL; a heart-beat is a
 *   lone "\n";
 * - the "system" session's CONNECT: accept-version:1.1,1.2, login,
 *   passcode, heart-beat:<systemHeartbeatSendInterval>,<...ReceiveInterval>
 *   (10000,10000 by default), host:<virtualHost>; a browser user's CONNECT
 *   is the browser's with login/passcode replaced by clientLogin/
 *   clientPasscode and host added;
 * - heart-beats (SystemSessionConnectionHandler.initHeartbeats): a "\n" on
 *   write inactivity of max(client send, server receive); a failure, "No
 *   messages received in N ms.", on read inactivity of max(client receive,
 *   server send) × 3 (HEARTBEAT_MULTIPLIER);
 * - on failure or close the TCP connection is dropped; the system session
 *   reconnects at a fixed interval (FixedIntervalReconnectStrategy, 5000 ms
 *   in Spring, shorter here), a user session does not (the browser is sent
 *   an ERROR and connects again).
 */
export type Headers = ReadonlyArray<readonly [string, string]>;

export function springFrame(command: string, headers: Headers, body: Buffer | string = ""): Buffer {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lines = [
    command,
    ...headers
      .filter(([name]) => !(command === "SEND" && name === "content-length"))
      .map(([name, value]) => `${name}:${value}`),
  ];
  if (command === "SEND") lines.push(`content-length:${payload.length}`);
  return Buffer.concat([Buffer.from(`${lines.join("\n")}\n\n`), payload, Buffer.from([0])]);
}

const HEARTBEAT_MULTIPLIER = 3;

export class RelaySession {
  /** CONNECTED frames received, one per (re)connection. */
  readonly connected: ReceivedFrame[] = [];
  /** Why connections were dropped, in Spring's words. */
  readonly failures: string[] = [];
  heartbeatsSent = 0;
  /** Heart-beats received on connections already dropped. */
  private earlierHeartbeats = 0;
  private client: RawStompClient | null = null;
  private timers: NodeJS.Timeout[] = [];
  private lastRead = 0;
  private lastWrite = 0;
  private sendingHeartbeats = true;
  private closed = false;

  constructor(
    private readonly port: number,
    private readonly connectHeaders: Headers,
    /** ms between reconnect attempts; undefined = no reconnect (a user session). */
    private readonly reconnectMs?: number,
  ) {}

  /** Opens the TCP connection, sends CONNECT and resolves with CONNECTED. */
  async connect(): Promise<ReceivedFrame> {
    const client = await RawStompClient.connect(this.port);
    this.lastRead = Date.now();
    client.socket.on("data", () => (this.lastRead = Date.now()));
    client.write(springFrame("CONNECT", this.connectHeaders));
    let frame: ReceivedFrame;
    try {
      // Spring gives up on a CONNECTED that does not come (MAX_TIME_TO_CONNECTED_FRAME, 60 s there).
      frame = await client.frame();
    } catch (error) {
      client.close();
      throw error;
    }
    if (frame.command !== "CONNECTED") {
      client.close();
      throw new Error(`CONNECT refused: ${frame.headers.message ?? ""} ${frame.body.toString()}`);
    }
    this.client = client;
    this.lastWrite = Date.now();
    client.socket.on("close", () => this.failed(client, "Connection to broker closed."));
    this.connected.push(frame);
    this.startHeartbeats(client, frame.headers["heart-beat"] ?? "0,0");
    return frame;
  }

  /** Heart-beats received over all connections. */
  get heartbeatsReceived(): number {
    return this.earlierHeartbeats + (this.client?.heartbeats ?? 0);
  }

  get isConnected(): boolean {
    return this.client !== null && !this.client.closed;
  }

  send(command: string, headers: Headers, body: Buffer | string = ""): void {
    this.write(springFrame(command, headers, body));
  }

  /** The next frame from the broker on the current connection. */
  frame(timeoutMs = 5000): Promise<ReceivedFrame> {
    if (!this.client) throw new Error("not connected");
    return this.client.frame(timeoutMs);
  }

  /** A relay that hangs: it stops sending heart-beats but keeps the socket open. */
  stopSendingHeartbeats(): void {
    this.sendingHeartbeats = false;
  }

  close(): void {
    this.closed = true;
    this.clearTimers();
    this.client?.close();
  }

  private write(bytes: Buffer): void {
    this.lastWrite = Date.now();
    this.client?.write(bytes);
  }

  private startHeartbeats(client: RawStompClient, connectedHeartbeat: string): void {
    const [clientSend, clientReceive] = this.heartbeatHeader();
    const [serverSend, serverReceive] = connectedHeartbeat.split(",").map(Number) as [number, number];
    if (clientSend > 0 && serverReceive > 0) {
      const interval = Math.max(clientSend, serverReceive);
      this.timers.push(
        setInterval(() => {
          if (this.sendingHeartbeats && Date.now() - this.lastWrite >= interval) {
            this.write(Buffer.from("\n"));
            this.heartbeatsSent++;
          }
        }, interval / 4),
      );
    }
    if (clientReceive > 0 && serverSend > 0) {
      const interval = Math.max(clientReceive, serverSend) * HEARTBEAT_MULTIPLIER;
      this.timers.push(
        setInterval(() => {
          if (Date.now() - this.lastRead > interval) this.failed(client, `No messages received in ${interval} ms.`);
        }, interval / 10),
      );
    }
  }

  private heartbeatHeader(): [number, number] {
    const value = this.connectHeaders.find(([name]) => name === "heart-beat")?.[1] ?? "0,0";
    return value.split(",").map(Number) as [number, number];
  }

  /** handleTcpConnectionFailure / afterConnectionClosed: drop the connection, the system session tries again. */
  private failed(client: RawStompClient, reason: string): void {
    if (this.client !== client) return;
    this.client = null;
    this.earlierHeartbeats += client.heartbeats;
    this.failures.push(reason);
    this.clearTimers();
    client.close();
    if (this.closed || this.reconnectMs === undefined) return;
    const retry = (): void => {
      if (this.closed) return;
      this.connect().catch(() => this.timers.push(setTimeout(retry, this.reconnectMs)));
    };
    this.timers.push(setTimeout(retry, this.reconnectMs));
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }
}
