import type { OutboundMessage, PublishResult, Publisher } from '@orchestron/broker';
import type { RelayMetrics } from '@orchestron/observability';
import { PublisherDecorator } from './publisher-decorator';

/** Wraps any Publisher to time its publish calls; the adapters stay free of metric code. */
export class InstrumentedPublisher extends PublisherDecorator {
  constructor(
    inner: Publisher,
    private readonly metrics: RelayMetrics,
    private readonly broker: string,
  ) {
    super(inner);
  }

  override async publish(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
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
}
