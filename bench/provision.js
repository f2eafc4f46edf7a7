'use strict'
/**
 * Sets up a Signal Hub under test through its public REST API, as an operator would,
 * with the BOOTSTRAP_ADMIN_KEY it was started with: users and keys, a `bench/#` area the
 * publisher role may publish to and the subscriber role may subscribe to (so the raw
 * fan-out path runs authentication, ACL, authorizeForward and audit without the signal
 * service), strategies owned by the publisher, and a subscription for the end-to-end run.
 */

async function api(base, adminKey, method, path, body) {
  const res = await globalThis.fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`)
  return text === '' ? null : JSON.parse(text)
}

async function createUserWithKey(base, adminKey, name, role) {
  const user = await api(base, adminKey, 'POST', '/users', { name, role })
  const key = await api(base, adminKey, 'POST', `/users/${user.id}/keys`, {})
  return { id: user.id, name, username: name, password: key.key }
}

/**
 * @param {{ base: string, adminKey: string, subscribers: number, strategies?: string[], e2eStrategy?: string, benchTopic?: string }} o
 * @returns {Promise<{ publisher: object, subscribers: object[] }>}
 */
async function provision(o) {
  const { base, adminKey } = o
  if (o.benchTopic !== undefined) {
    await api(base, adminKey, 'POST', '/roles/publisher/permissions', { action: 'publish', topic: o.benchTopic, effect: 'allow' })
    await api(base, adminKey, 'POST', '/roles/subscriber/permissions', { action: 'subscribe', topic: o.benchTopic, effect: 'allow' })
  }
  const publisher = await createUserWithKey(base, adminKey, 'bench-publisher', 'publisher')
  const subscribers = []
  for (let i = 0; i < o.subscribers; i++) subscribers.push(await createUserWithKey(base, adminKey, `bench-subscriber-${i}`, 'subscriber'))
  for (const id of o.strategies ?? []) {
    await api(base, adminKey, 'POST', '/strategies', { id, name: id, owner_id: publisher.id })
  }
  if (o.e2eStrategy !== undefined) {
    await api(base, adminKey, 'POST', '/strategies', { id: o.e2eStrategy, name: o.e2eStrategy, owner_id: publisher.id })
    await api(base, adminKey, 'POST', '/subscriptions', { strategy_id: o.e2eStrategy, user_id: subscribers[0].id })
  }
  return { publisher, subscribers }
}

module.exports = { provision }
