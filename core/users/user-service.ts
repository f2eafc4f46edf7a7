import { Op, UniqueConstraintError, type WhereOptions } from 'sequelize'
import type { User } from '../../models/user.model'
import type { Database } from '../../models/database'
import type { Operations } from '../operations'
import { AppError } from '../errors'
import { parseId, type ActionContext } from '../action-context'
import { decodeNumericCursor, pageLimit, toPage, type Page } from '../pagination'
import { parseInput } from '../parse-input'
import { eraseUserData } from './erase-user'
import {
  createUserSchema, listUsersQuerySchema, updateUserSchema,
  type CreateUserInput, type ListUsersQuery, type UpdateUserInput, type UserView
} from './user-schemas'

export function toUserView(u: User): UserView {
  return {
    id: u.id,
    name: u.name,
    contact: u.contact,
    role: u.role,
    status: u.status,
    created_at: u.created_at.toISOString(),
    updated_at: u.updated_at.toISOString()
  }
}

/** Users: admins manage everyone; anyone may read themselves. */
export class UserService {
  constructor(private readonly db: Database, private readonly ops: Operations) {}

  async create(ctx: ActionContext, input: CreateUserInput): Promise<UserView> {
    this.ops.assertAdmin(ctx)
    const data = parseInput(createUserSchema, input)
    await this.assertRoleExists(data.role)
    const { User } = this.db.models
    if (await User.findOne({ where: { name: data.name } }) !== null) throw new AppError('conflict', `a user named ${data.name} exists`)
    let user: User
    try {
      user = await User.create({ name: data.name, contact: data.contact ?? null, role: data.role })
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw new AppError('conflict', `a user named ${data.name} exists`)
      throw err
    }
    this.ops.record(ctx, 'user.create', `user/${user.id}`, { role: user.role })
    return toUserView(user)
  }

  async list(ctx: ActionContext, query: ListUsersQuery = {}): Promise<Page<UserView>> {
    this.ops.assertAdmin(ctx)
    const q = parseInput(listUsersQuerySchema, query)
    const after = decodeNumericCursor(q.cursor)
    const where: WhereOptions<User> = {}
    if (after !== undefined) Object.assign(where, { id: { [Op.gt]: after } })
    if (q.role !== undefined) Object.assign(where, { role: q.role })
    if (q.status !== undefined) Object.assign(where, { status: q.status })
    const limit = pageLimit(q)
    const rows = await this.db.models.User.findAll({ where, order: [['id', 'ASC']], limit: limit + 1 })
    return toPage(rows, limit, (u) => u.id, toUserView)
  }

  async get(ctx: ActionContext, id: number | string): Promise<UserView> {
    const userId = parseId(id, 'user')
    this.ops.assertSelfOrAdmin(ctx, userId)
    return toUserView(await this.find(userId))
  }

  /** A user by id, or by name when `ref` is not a number (the CLI takes either). */
  async resolve(ctx: ActionContext, ref: string | number): Promise<UserView> {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) return this.get(ctx, ref)
    this.ops.assertAdmin(ctx)
    const user = await this.db.models.User.findOne({ where: { name: ref } })
    if (user === null) throw new AppError('not_found', `user ${ref} not found`)
    return toUserView(user)
  }

  /** Changes name, contact, role or status; a role change or a disable takes effect on every door and node at once. */
  async update(ctx: ActionContext, id: number | string, patch: UpdateUserInput): Promise<UserView> {
    this.ops.assertAdmin(ctx)
    const data = parseInput(updateUserSchema, patch)
    const user = await this.find(parseId(id, 'user'))
    if (data.role !== undefined) await this.assertRoleExists(data.role)
    const leavesAdmins = (data.role !== undefined && data.role !== 'admin') || data.status === 'disabled'
    if (leavesAdmins && user.role === 'admin' && user.status === 'active') await this.assertNotLastAdmin(user.id)
    if (data.name !== undefined && data.name !== user.name) {
      const clash = await this.db.models.User.findOne({ where: { name: data.name } })
      if (clash !== null) throw new AppError('conflict', `a user named ${data.name} exists`)
    }
    const before = { role: user.role, status: user.status }
    try {
      await user.update({
        ...(data.name !== undefined ? { name: data.name } : {}),
        ...(data.contact !== undefined ? { contact: data.contact } : {}),
        ...(data.role !== undefined ? { role: data.role } : {}),
        ...(data.status !== undefined ? { status: data.status } : {})
      })
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw new AppError('conflict', `a user named ${String(data.name)} exists`)
      throw err
    }
    this.ops.record(ctx, 'user.update', `user/${user.id}`, { fields: Object.keys(data), ...(data.role !== undefined ? { role: user.role } : {}), ...(data.status !== undefined ? { status: user.status } : {}) })
    if (before.role !== user.role || before.status !== user.status || data.name !== undefined) {
      this.ops.bus.announce({ kind: 'user', userId: user.id })
      await this.ops.policy.reload()
    }
    return toUserView(user)
  }

  /**
   * Erases a user: keys, subscriptions, permissions, client bindings and reports go
   * with it, audit rows are pseudonymised. Refused (409) while the user owns strategies.
   */
  async delete(ctx: ActionContext, id: number | string): Promise<void> {
    this.ops.assertAdmin(ctx)
    const user = await this.find(parseId(id, 'user'))
    if (user.role === 'admin' && user.status === 'active') await this.assertNotLastAdmin(user.id)
    await eraseUserData(this.db, this.ops, ctx, user)
  }

  private async find(userId: number): Promise<User> {
    const user = await this.db.models.User.findByPk(userId)
    if (user === null) throw new AppError('not_found', `user ${userId} not found`)
    return user
  }

  private async assertRoleExists(role: string): Promise<void> {
    if (await this.db.models.Role.findOne({ where: { name: role } }) === null) {
      throw new AppError('validation_failed', `role ${role} does not exist`, { issues: [{ path: 'role', message: 'no such role' }] })
    }
  }

  private async assertNotLastAdmin(userId: number): Promise<void> {
    const others = await this.db.models.User.count({ where: { role: 'admin', status: 'active', id: { [Op.ne]: userId } } })
    if (others === 0) throw new AppError('conflict', 'the last active admin cannot be disabled, demoted or deleted')
  }
}
