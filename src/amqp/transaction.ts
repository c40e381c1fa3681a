import type { Outcome } from "../core/delivery-ledger.js";
import type { Unacked } from "./channel.js";
import type { CompletePublish } from "./content-assembler.js";

/** What a tx-mode channel has done since its last commit or rollback. */
export class Transaction {
  publishes: CompletePublish[] = [];
  settlements: Array<{ entry: Unacked; outcome: Outcome }> = [];
}
