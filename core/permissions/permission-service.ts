import { UniqueConstraintError } from 'sequelize'
import type { Permission } from '../../models/permission.model'
import type { Role } from '../../models/role.model'
import type { Database } from '../../models/database'
import type { Operations } from '../operations'
import { AppError } from '../errors'
import { parseId, type ActionContext } from '../action-context'
import { parseInput } from '../parse-input'
import {
  createRoleSchema, permissionInputSchema,
  type CreateRoleInput, type PermissionInput, type PermissionView, type RoleView
} from './permission-schemas'

export function toRoleView(r: Role): RoleView {
  return { id: r.id, name: r.name, description: r.description, created_at: r.created_at.toISOString() }
}

/** Who holds a permission: a role (by id or name) or a single user. */
export type Grantee = { role: string | number } | { userId: string | number }

/**
 * Roles and the permissions of roles and single users: admin only. Every change is
 * in effect on this node when the call returns and is announced to the others.
 */
export class PermissionService {
  constructor(private readonly db: Database, private readonly ops: Operations) {}

  async listRoles(ctx: ActionContext): Promise<RoleView[]> {
    this.ops.assertAdmin(ctx)
    const rows = await this.db.models.Role.findAll({ order: [['id', 'ASC']] })
    return rows.map(toRoleView)
  }

  async createRole(ctx: ActionContext, input: CreateRoleInput): Promise<RoleView> {
    this.ops.assertAdmin(ctx)
    const data = parseInput(createRoleSchema, input)
    const { Role } = this.db.models
    if (await Role.findOne({ where: { name: data.name } }) !== null) throw new AppError('conflict', `role ${data.name} exists`)
    let role: Role
    try {
      role = await Role.create({ name: data.name, description: data.description })
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw new AppError('conflict', `role ${data.name} exists`)
      throw err
    }
    this.ops.record(ctx, 'role.create', `role/${role.name}`, {})
    return toRoleView(role)
  }

  async list(ctx: ActionContext, grantee: Grantee): Promise<PermissionView[]> {
    this.ops.assertAdmin(ctx)
    const { where, roleName } = await this.scope(grantee)
    const rows = await this.db.models.Permission.findAll({ where, order: [['id', 'ASC']] })
    return rows.map((p) => this.view(p, roleName))
  }

  /** Adds a rule; the same action, topic and effect twice for one grantee is a conflict. */
  async add(ctx: ActionContext, grantee: Grantee, input: PermissionInput): Promise<PermissionView> {
    this.ops.assertAdmin(ctx)
    const data = parseInput(permissionInputSchema, input)
    const { where, roleName } = await this.scope(grantee)
    const { Permission } = this.db.models
    if (await Permission.findOne({ where: { ...where, ...data } }) !== null) {
      throw new AppError('conflict', `the same ${data.effect} rule for ${data.action} on ${data.topic} exists`)
    }
    const row = await Permission.create({ role_id: null, user_id: null, ...where, ...data })
    this.ops.record(ctx, 'permission.add', `permission/${row.id}`, { ...this.granteeSummary(row, roleName), ...data })
    await this.ops.applyPolicyChange()
    return this.view(row, roleName)
  }

  /** Removes a rule; with a grantee, only a rule of that grantee (else 404). */
  async remove(ctx: ActionContext, id: number | string, grantee?: Grantee): Promise<void> {
    this.ops.assertAdmin(ctx)
    const permissionId = parseId(id, 'permission')
    const scope = grantee === undefined ? undefined : await this.scope(grantee)
    const row = await this.db.models.Permission.findOne({ where: { ...scope?.where, id: permissionId } })
    if (row === null) throw new AppError('not_found', `permission ${permissionId} not found`)
    const roleName = scope?.roleName ?? await this.roleNameOf(row)
    await row.destroy()
    this.ops.record(ctx, 'permission.remove', `permission/${row.id}`, {
      ...this.granteeSummary(row, roleName), action: row.action, topic: row.topic, effect: row.effect
    })
    await this.ops.applyPolicyChange()
  }

  /** Removes the grantee's rule with this action, topic and effect (else 404). */
  async removeRule(ctx: ActionContext, grantee: Grantee, input: PermissionInput): Promise<void> {
    this.ops.assertAdmin(ctx)
    const data = parseInput(permissionInputSchema, input)
    const { where } = await this.scope(grantee)
    const row = await this.db.models.Permission.findOne({ where: { ...where, ...data } })
    if (row === null) throw new AppError('not_found', `no ${data.effect} rule for ${data.action} on ${data.topic}`)
    await this.remove(ctx, row.id, grantee)
  }

  private async scope(grantee: Grantee): Promise<{ where: { role_id: number } | { user_id: number }, roleName: string | null }> {
    if ('role' in grantee) {
      const role = await this.findRole(grantee.role)
      return { where: { role_id: role.id }, roleName: role.name }
    }
    const userId = parseId(grantee.userId, 'user')
    if (await this.db.models.User.findByPk(userId) === null) throw new AppError('not_found', `user ${userId} not found`)
    return { where: { user_id: userId }, roleName: null }
  }

  /** A role by numeric id or by name. */
  async findRole(ref: string | number): Promise<Role> {
    const { Role } = this.db.models
    const role = typeof ref === 'number' || /^\d+$/.test(ref)
      ? await Role.findByPk(Number(ref))
      : await Role.findOne({ where: { name: ref } })
    if (role === null) throw new AppError('not_found', `role ${ref} not found`)
    return role
  }

  private async roleNameOf(p: Permission): Promise<string | null> {
    if (p.role_id === null) return null
    return (await this.db.models.Role.findByPk(p.role_id))?.name ?? null
  }

  private granteeSummary(p: Permission, roleName: string | null): Record<string, unknown> {
    return p.role_id !== null ? { role: roleName } : { user_id: p.user_id }
  }

  private view(p: Permission, roleName: string | null): PermissionView {
    return {
      id: p.id,
      role: p.role_id === null ? null : roleName,
      user_id: p.user_id === null ? null : Number(p.user_id),
      action: p.action,
      topic: p.topic,
      effect: p.effect,
      created_at: p.created_at.toISOString()
    }
  }
}
