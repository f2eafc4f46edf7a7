import type { Core } from '../../core/core'
import type { Grantee } from '../../core/permissions/permission-service'
import type { ActionContext } from '../../core/action-context'
import { isJobName, JOBS } from '../../core/jobs/scheduler'
import type { UserView } from '../../core/users/user-schemas'
import { columns, type CliOutput } from './cli-output'

/** Parsed flags (`--name alice` → { name: 'alice' }, `--private` → { private: true }) and positionals after the verb. */
export interface CommandArgs {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

export interface CommandEnv {
  core: Core
  ctx: ActionContext
  out: CliOutput
}

export interface Command {
  usage: string
  options: Record<string, { type: 'string' | 'boolean' }>
  /** Flags that must be given. */
  required?: string[]
  /** Number of positionals the command takes. */
  positionals?: number
  /** What kind of change the command makes, for the note about nodes without Redis. */
  affects?: 'policy' | 'key'
  run(env: CommandEnv, args: CommandArgs): Promise<void>
}

/** Thrown for a command line that cannot be run; the CLI prints the usage and exits 2. */
export class UsageError extends Error {}

const str = (args: CommandArgs, name: string): string | undefined => {
  const v = args.values[name]
  return typeof v === 'string' ? v : undefined
}
const need = (args: CommandArgs, name: string): string => {
  const v = str(args, name)
  if (v === undefined) throw new UsageError(`--${name} is required`)
  return v
}
const string = { type: 'string' } as const
const flag = { type: 'boolean' } as const

async function userId(env: CommandEnv, ref: string): Promise<number> {
  return (await env.core.users.resolve(env.ctx, ref)).id
}

async function grantee(env: CommandEnv, args: CommandArgs): Promise<Grantee> {
  const role = str(args, 'role')
  const user = str(args, 'user')
  if ((role === undefined) === (user === undefined)) throw new UsageError('give exactly one of --role or --user')
  return role !== undefined ? { role } : { userId: await userId(env, user as string) }
}

function printKey(out: CliOutput, issued: { id: number, prefix: string, key: string, expires_at: string | null }, user: string, extra: unknown = {}): void {
  out.result({ ...(extra as object), key: issued }, [
    `key ${issued.id} (prefix ${issued.prefix}) for ${user}${issued.expires_at === null ? '' : `, expires ${issued.expires_at}`}`,
    'the key is shown only now; store it safely:',
    issued.key
  ])
}

async function setStatus(env: CommandEnv, ref: string, status: 'active' | 'disabled'): Promise<void> {
  const users = env.core.users
  const user = await users.update(env.ctx, await userId(env, ref), { status })
  env.out.result(user, [`user ${user.id} ${user.name} is ${user.status}`])
}

export const COMMANDS: Record<string, Command> = {
  'user create': {
    usage: 'user create --name <name> --role <role> [--contact <email|phone>] [--no-key]',
    options: { name: string, role: string, contact: string, 'no-key': flag },
    required: ['name', 'role'],
    async run(env, args) {
      const user = await env.core.users.create(env.ctx, { name: need(args, 'name'), role: need(args, 'role'), contact: str(args, 'contact') })
      if (args.values['no-key'] === true) {
        env.out.result({ user }, [`user ${user.id} ${user.name} (${user.role}) created, without a key`])
        return
      }
      const issued = await env.core.apiKeys.create(env.ctx, user.id, { label: 'cli' })
      if (!env.out.json) env.out.result(null, [`user ${user.id} ${user.name} (${user.role}) created`])
      printKey(env.out, issued, user.name, { user })
    }
  },
  'user list': {
    usage: 'user list [--role <role>] [--status active|disabled]',
    options: { role: string, status: string },
    async run(env, args) {
      const users = env.core.users
      const all: UserView[] = []
      let cursor: string | undefined
      do {
        const page = await users.list(env.ctx, { role: str(args, 'role'), status: str(args, 'status') as 'active' | undefined, limit: 500, cursor })
        all.push(...page.data)
        cursor = page.next_cursor ?? undefined
      } while (cursor !== undefined)
      env.out.result(all, () => all.map((u) => columns([u.id, u.name, u.role, u.status, u.contact], [6, 24, 12, 9])))
    }
  },
  'user disable': { usage: 'user disable <name|id>', options: {}, positionals: 1, affects: 'key', run: (env, args) => setStatus(env, args.positionals[0], 'disabled') },
  'user enable': { usage: 'user enable <name|id>', options: {}, positionals: 1, affects: 'key', run: (env, args) => setStatus(env, args.positionals[0], 'active') },
  'user delete': {
    usage: 'user delete <name|id>',
    options: {},
    positionals: 1,
    affects: 'key',
    async run(env, args) {
      const id = await userId(env, args.positionals[0])
      await env.core.users.delete(env.ctx, id)
      env.out.result({ deleted: id }, [`user ${id} erased`])
    }
  },
  'key create': {
    usage: 'key create --user <name|id> [--label <text>] [--expires-at <ISO time>]',
    options: { user: string, label: string, 'expires-at': string },
    required: ['user'],
    async run(env, args) {
      const ref = need(args, 'user')
      const issued = await env.core.apiKeys.create(env.ctx, await userId(env, ref), { label: str(args, 'label'), expires_at: str(args, 'expires-at') })
      printKey(env.out, issued, ref)
    }
  },
  'key list': {
    usage: 'key list --user <name|id>',
    options: { user: string },
    required: ['user'],
    async run(env, args) {
      const keys = await env.core.apiKeys.list(env.ctx, await userId(env, need(args, 'user')))
      env.out.result(keys, () => keys.map((k) => columns([k.id, k.prefix, k.status, k.label, k.expires_at ?? 'no expiry', k.last_used_at ?? 'never used'], [6, 14, 9, 16, 26])))
    }
  },
  'key rotate': {
    usage: 'key rotate <key id>',
    options: {},
    positionals: 1,
    affects: 'key',
    async run(env, args) {
      const rotated = await env.core.apiKeys.rotate(env.ctx, args.positionals[0])
      printKey(env.out, rotated, `user ${rotated.previous.user_id}`, { previous: rotated.previous })
      if (!env.out.json) env.out.result(null, [`old key ${rotated.previous.id} keeps working until ${String(rotated.previous.expires_at)}`])
    }
  },
  'key revoke': {
    usage: 'key revoke <key id>',
    options: {},
    positionals: 1,
    affects: 'key',
    async run(env, args) {
      const key = await env.core.apiKeys.revoke(env.ctx, args.positionals[0])
      env.out.result(key, [`key ${key.id} (prefix ${key.prefix}) revoked`])
    }
  },
  'strategy create': {
    usage: 'strategy create --id <id> --name <name> --owner <name|id> [--description <text>] [--private]',
    options: { id: string, name: string, owner: string, description: string, private: flag },
    required: ['id', 'name', 'owner'],
    affects: 'policy',
    async run(env, args) {
      const strategy = await env.core.strategies.create(env.ctx, {
        id: need(args, 'id'), name: need(args, 'name'), description: str(args, 'description'),
        visibility: args.values.private === true ? 'private' : 'public', owner_id: await userId(env, need(args, 'owner'))
      })
      env.out.result(strategy, [`strategy ${strategy.id} (${strategy.visibility}) created, owned by user ${strategy.owner_id}`])
    }
  },
  'subscription add': {
    usage: 'subscription add --user <name|id> --strategy <id> [--symbols A,B,…]',
    options: { user: string, strategy: string, symbols: string },
    required: ['user', 'strategy'],
    affects: 'policy',
    async run(env, args) {
      const symbols = str(args, 'symbols')?.split(',').map((s) => s.trim()).filter((s) => s !== '')
      const { subscription: s, created } = await env.core.subscriptions.add(env.ctx, {
        strategy_id: need(args, 'strategy'), user_id: await userId(env, need(args, 'user')), symbols
      })
      env.out.result(s, [`subscription ${s.id} ${created ? 'created' : 'updated'}: user ${s.user_id} receives ${s.strategy_id} (${s.symbols?.join(',') ?? 'every symbol'})`])
    }
  },
  'subscription remove': {
    usage: 'subscription remove <subscription id>',
    options: {},
    positionals: 1,
    affects: 'policy',
    async run(env, args) {
      await env.core.subscriptions.remove(env.ctx, args.positionals[0])
      env.out.result({ removed: Number(args.positionals[0]) }, [`subscription ${args.positionals[0]} removed`])
    }
  },
  'role list': {
    usage: 'role list',
    options: {},
    async run(env) {
      const roles = await env.core.permissions.listRoles(env.ctx)
      env.out.result(roles, () => roles.map((r) => columns([r.id, r.name, r.description], [4, 14])))
    }
  },
  'permission list': {
    usage: 'permission list --role <name> | --user <name|id>',
    options: { role: string, user: string },
    async run(env, args) {
      const rules = await env.core.permissions.list(env.ctx, await grantee(env, args))
      env.out.result(rules, () => rules.map((p) => columns([p.id, p.effect, p.action, p.topic], [6, 6, 10])))
    }
  },
  'permission add': {
    usage: 'permission add --role <name> | --user <name|id> --action publish|subscribe|read|admin --topic <filter> --effect allow|deny',
    options: { role: string, user: string, action: string, topic: string, effect: string },
    required: ['action', 'topic', 'effect'],
    affects: 'policy',
    async run(env, args) {
      const rule = await env.core.permissions.add(env.ctx, await grantee(env, args), {
        action: need(args, 'action') as 'read', topic: need(args, 'topic'), effect: need(args, 'effect') as 'allow'
      })
      env.out.result(rule, [`permission ${rule.id}: ${rule.effect} ${rule.action} on ${rule.topic} for ${rule.role !== null ? `role ${rule.role}` : `user ${rule.user_id}`}`])
    }
  },
  'permission remove': {
    usage: 'permission remove <permission id>',
    options: {},
    positionals: 1,
    affects: 'policy',
    async run(env, args) {
      await env.core.permissions.remove(env.ctx, args.positionals[0])
      env.out.result({ removed: Number(args.positionals[0]) }, [`permission ${args.positionals[0]} removed`])
    }
  },
  'job run': {
    usage: `job run ${Object.keys(JOBS).join('|')}`,
    options: {},
    positionals: 1,
    async run(env, args) {
      const name = args.positionals[0]
      if (!isJobName(name)) throw new UsageError(`unknown job ${name}; one of ${Object.keys(JOBS).join(', ')}`)
      const result = await env.core.jobs.run(name, { progress: (message) => env.out.note(`${name}: ${message}`) })
      env.out.result({ job: name, ...result }, [`${name}: ${result.summary}`])
      if (name === 'reports' || name === 'rotate-keys') {
        env.out.note('run from the CLI, reports and notices are stored (GET /api/v1/reports, GET /api/v1/me) but not sent over MQTT; the nodes\' scheduled runs send them')
      }
    }
  },
  'client-binding release': {
    usage: 'client-binding release <client id>',
    options: {},
    positionals: 1,
    affects: 'key',
    async run(env, args) {
      await env.core.clientBindings.release(env.ctx, args.positionals[0])
      env.out.result({ released: args.positionals[0] }, [`client id ${args.positionals[0]} released`])
    }
  }
}
