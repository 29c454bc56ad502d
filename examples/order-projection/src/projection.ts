import type { PoolClient } from 'pg';
import type { EventHandler } from '@orchestron/consumer';

/** The projection's own tables (the library's inbox tables are created beside them). */
export const PROJECTION_TABLES_SQL = `
create table if not exists orders (
  order_id text primary key,
  customer_id text not null,
  total numeric not null,
  currency text not null,
  items int not null,
  created_at timestamptz,
  event_id text not null
);
create table if not exists customer_totals (
  customer_id text not null,
  currency text not null,
  orders int not null,
  total numeric not null,
  primary key (customer_id, currency)
);`;

interface OrderCreated {
  readonly order_id: string;
  readonly customer_id: string;
  readonly total: number;
  readonly currency: string;
  readonly items: readonly { sku: string; quantity: number }[];
}

/**
 * `order.created` -> one row in `orders` and a running total per customer. The running total
 * is an increment, not an upsert of a value: handled twice, it would count the order twice.
 * That is what the inbox is for — the handler's writes commit with the inbox record, once.
 */
export const projectOrder: EventHandler = async (event, tx: PoolClient) => {
  if (event.type !== 'order.created') return;
  const order = event.data as OrderCreated;
  await tx.query(
    `insert into orders (order_id, customer_id, total, currency, items, created_at, event_id)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [order.order_id, order.customer_id, order.total, order.currency, order.items.length, event.time, event.eventId],
  );
  await tx.query(
    `insert into customer_totals (customer_id, currency, orders, total) values ($1, $2, 1, $3)
     on conflict (customer_id, currency) do update
       set orders = customer_totals.orders + 1, total = customer_totals.total + excluded.total`,
    [order.customer_id, order.currency, order.total],
  );
};
