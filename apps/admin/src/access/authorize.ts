import { isUnrestricted, type ApiKeyRecord } from '@orchestron/db';
import type { AdminRoute } from './route-table';
import { rolesGrant, UNSCOPED_PERMISSIONS } from './roles';
import { scopeOf } from './scope';

/**
 * Why `key` may not use `route`, or undefined when it may: the one authorisation decision of
 * the admin API (app.ts asks it for every request of every route). What a permitted key then
 * sees is bounded by its scope in each statement (scopeOf).
 */
export function refusalReason(route: Pick<AdminRoute, 'permission'>, key: ApiKeyRecord): string | undefined {
  if (route.permission === 'public') return undefined;
  if (!rolesGrant(key.roles, route.permission)) return `lacks the permission ${route.permission}`;
  if (UNSCOPED_PERMISSIONS.includes(route.permission) && !isUnrestricted(scopeOf(key))) {
    return `is limited to some sources or types, and ${route.permission} needs a key that is not`;
  }
  return undefined;
}
