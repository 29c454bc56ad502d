/**
 * Matches `basic.return` frames to the messages they belong to.
 *
 * RabbitMQ sends the return of an unroutable mandatory message before that message's
 * confirm, and returns arrive in publish order. A return carries the exchange, routing key
 * and properties but no delivery tag, so it is matched to the oldest outstanding message
 * with the same exchange, routing key and message id (the id alone is not enough: fan-out
 * publishes one event to several exchanges in the same call). When the confirm arrives, the
 * message's ticket tells whether it was returned.
 */
export interface ReturnTicket {
  readonly key: string;
  returned: string | null;
  settled: boolean;
}

export class ReturnCorrelator {
  private readonly outstanding = new Map<string, ReturnTicket[]>();

  /** Call just before publishing a message. */
  expect(exchange: string, routingKey: string, messageId: string): ReturnTicket {
    const ticket: ReturnTicket = { key: keyOf(exchange, routingKey, messageId), returned: null, settled: false };
    const queue = this.outstanding.get(ticket.key);
    if (queue) queue.push(ticket);
    else this.outstanding.set(ticket.key, [ticket]);
    return ticket;
  }

  /** Call on `basic.return`; false when no outstanding message matches (e.g. already given up on). */
  returned(exchange: string, routingKey: string, messageId: string, reason: string): boolean {
    const queue = this.outstanding.get(keyOf(exchange, routingKey, messageId));
    const ticket = queue?.find((t) => t.returned === null);
    if (!ticket) return false;
    ticket.returned = reason;
    return true;
  }

  /** Call on the message's confirm (or its failure): the return reason, or null if it was routed. */
  settle(ticket: ReturnTicket): string | null {
    if (!ticket.settled) {
      ticket.settled = true;
      const queue = this.outstanding.get(ticket.key);
      if (queue) {
        const index = queue.indexOf(ticket);
        if (index >= 0) queue.splice(index, 1);
        if (queue.length === 0) this.outstanding.delete(ticket.key);
      }
    }
    return ticket.returned;
  }

  /** Messages published and neither confirmed nor failed yet. */
  get size(): number {
    let n = 0;
    for (const queue of this.outstanding.values()) n += queue.length;
    return n;
  }
}

function keyOf(exchange: string, routingKey: string, messageId: string): string {
  return `${exchange}\u0000${routingKey}\u0000${messageId}`;
}
