import type { OutboundMessage, PublishResult, Publisher } from '@orchestron/broker';

/**
 * A Publisher that hands everything to `inner`; a decorator overrides what it adds to
 * (InstrumentedPublisher: timing; IsolatingPublisher: finding a row that fails its batch).
 */
export class PublisherDecorator implements Publisher {
  constructor(protected readonly inner: Publisher) {}

  connect(): Promise<void> {
    return this.inner.connect();
  }

  publish(messages: readonly OutboundMessage[]): Promise<PublishResult[]> {
    return this.inner.publish(messages);
  }

  probe(): Promise<void> {
    return this.inner.probe();
  }

  isHealthy(): boolean {
    return this.inner.isHealthy();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
