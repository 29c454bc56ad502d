import { API_KEY_ROLES, type ApiKeyRole } from '@orchestron/db';

/**
 * What a request may do. Each admin route needs exactly one (the route table in
 * routes/index.ts); a key has a permission when one of its roles grants it.
 */
export const PERMISSIONS = [
  'events.read',
  'backlog.read',
  'dead_letters.read',
  'dead_letters.write',
  'replays.read',
  'replays.write',
  'keys.read',
  'keys.write',
  'audit.read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The fixed roles (docs/admin.md). Each includes the one before it, except ingest. */
export const ROLES = API_KEY_ROLES;
export type Role = ApiKeyRole;

const VIEWER: readonly Permission[] = ['events.read', 'backlog.read', 'dead_letters.read', 'replays.read'];
const OPERATOR: readonly Permission[] = [...VIEWER, 'dead_letters.write', 'replays.write'];
const ADMIN: readonly Permission[] = [...OPERATOR, 'keys.read', 'keys.write', 'audit.read'];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  // Writes events through ingest; nothing in the admin API.
  ingest: [],
  viewer: VIEWER,
  operator: OPERATOR,
  admin: ADMIN,
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** True when one of `roles` grants `permission`; roles outside the fixed set grant nothing. */
export function rolesGrant(roles: readonly string[], permission: Permission): boolean {
  return roles.some((role) => isRole(role) && ROLE_PERMISSIONS[role].includes(permission));
}

/**
 * Permissions over things that are not events (keys, the audit log of every action): a key
 * limited to some sources or types cannot hold them, or it could make itself an unlimited key
 * or read what others did outside its scope.
 */
export const UNSCOPED_PERMISSIONS: readonly Permission[] = ['keys.read', 'keys.write', 'audit.read'];
