import type { ServiceDeps } from './context.ts';
import { createOrgService } from './org-service.ts';
import { createProfileService } from './profile-service.ts';
import { createRoleService } from './role-service.ts';
import { createUserService } from './user-service.ts';

/**
 * The directory as one service: organisations, users, roles and profiles, each in its own
 * module. Callers use `services.directory.*`; the entity services stay separately testable.
 */
export function createDirectoryService(deps: ServiceDeps) {
  return { ...createOrgService(deps), ...createUserService(deps), ...createRoleService(deps), ...createProfileService(deps) };
}

export type DirectoryService = ReturnType<typeof createDirectoryService>;
