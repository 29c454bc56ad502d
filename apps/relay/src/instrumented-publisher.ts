import type { OutboundMessage, PublishResult, Publisher } from '@orchestron/broker';
import type { RelayMetrics } from '@orchestron/observability';

/** Wraps any Publisher to time its publish calls; the adapters stay free of metric code. */
export class InstrumentedPublisher implements Publisher {
  constructor(
    private readonly inner: Publisher,
    private readonly metrics: RelayMetrics,
    private readonly broker: string,
  ) {}

  connect(): Promise<void> {
    return this.inner.connect();
  }

  async publish(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
    const end = this.metrics.publishDuration.startTimer({ broker: this.broker });
    try {
      return await this.inner.publish(messages);
    } catch (error) {
      this.metrics.brokerUnavailable.inc({ broker: this.broker });
      throw error;
    } finally {
      end();
    }
  }

  isHealthy(): boolean {
    return this.inner.isHealthy();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
