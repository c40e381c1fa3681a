import { DEFAULTS } from "../config/defaults.js";

/** Bytes of unflushed output past which deliveries to a connection wait until it is written out. */
const OUTPUT_HIGH_WATER = DEFAULTS.outputHighWater;

/**
 * Write-side backpressure for one connection: consumers may take another
 * delivery only while the socket accepts data and the unflushed output is
 * small. A consumer refused for that reason is "starved" and gets kicked
 * (its queues dispatch again) once output moves: after a write the socket
 * took, or on 'drain'.
 */
export class DeliveryGate {
  /** The socket refused more data; deliveries wait for 'drain'. */
  private congested = false;
  private starved = false;

  constructor(private readonly kick: () => void) {}

  /** Whether a consumer may take another delivery, given the bytes not yet flushed. */
  canWrite(unflushedBytes: number, open: boolean): boolean {
    if (this.congested || unflushedBytes > OUTPUT_HIGH_WATER || !open) {
      this.starved = true;
      return false;
    }
    return true;
  }

  /** A flush handed the output to the socket; `accepted` is what write() returned. */
  written(accepted: boolean): void {
    if (!accepted) this.congested = true;
    else this.kickIfStarved();
  }

  drained(): void {
    this.congested = false;
    this.kickIfStarved();
  }

  private kickIfStarved(): void {
    if (!this.starved) return;
    this.starved = false;
    this.kick();
  }
}
